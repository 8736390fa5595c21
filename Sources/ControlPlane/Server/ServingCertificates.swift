import Crypto
import SwiftASN1
import Foundation
import X509

/// The control plane's TLS material, generated into the data directory on first start and
/// reused afterwards: a CA (P-256, 10 years) that clients trust through the kubeconfig, and a
/// serving certificate it signs for localhost and 127.0.0.1.
public struct ServingCertificates: Sendable {
    public var caPEM: String
    public var certificatePEM: String
    public var privateKeyPEM: String

    public static func loadOrCreate(in directory: URL, now: Date = Date()) throws -> ServingCertificates {
        let ca = directory.appendingPathComponent("ca.crt")
        let cert = directory.appendingPathComponent("apiserver.crt")
        let key = directory.appendingPathComponent("apiserver.key")
        let fm = FileManager.default
        if fm.fileExists(atPath: ca.path), fm.fileExists(atPath: cert.path), fm.fileExists(atPath: key.path) {
            return ServingCertificates(
                caPEM: try String(contentsOf: ca, encoding: .utf8), certificatePEM: try String(contentsOf: cert, encoding: .utf8),
                privateKeyPEM: try String(contentsOf: key, encoding: .utf8))
        }
        let generated = try generate(now: now)
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        try generated.caPEM.write(to: ca, atomically: true, encoding: .utf8)
        try generated.certificatePEM.write(to: cert, atomically: true, encoding: .utf8)
        try generated.privateKeyPEM.write(to: key, atomically: true, encoding: .utf8)
        // The private key is readable by its owner only.
        try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key.path)
        return generated
    }

    public static func generate(now: Date = Date()) throws -> ServingCertificates {
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("llmops")
            CommonName("llmops-ca")
        }
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey), notValidBefore: now - 3600,
            notValidAfter: now + 10 * 365 * 86_400, issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey))
        let serverKey = P256.Signing.PrivateKey()
        let server = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(serverKey.publicKey), notValidBefore: now - 3600,
            notValidAfter: now + 365 * 86_400, issuer: caName,
            subject: try DistinguishedName {
                OrganizationName("llmops")
                CommonName("llmops-apiserver")
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: .init(caKey))
        return ServingCertificates(
            caPEM: try ca.serializeAsPEM().pemString, certificatePEM: try server.serializeAsPEM().pemString,
            privateKeyPEM: serverKey.pemRepresentation)
    }
}

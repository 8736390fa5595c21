// Test helper for the durability test (Tests/ControlPlaneTests): writes objects to an
// ObjectStore as fast as it can and prints each acknowledged resourceVersion, until killed.
// The test kills it with SIGKILL at a random moment and checks every printed write survived.
import ControlPlane
import Foundation
import KubeModel

@main
struct StoreCrashWriter {
    static func main() async throws {
        guard CommandLine.arguments.count == 2 else {
            FileHandle.standardError.write(Data("usage: StoreCrashWriter DB_PATH\n".utf8))
            exit(2)
        }
        let store = try ObjectStore(path: CommandLine.arguments[1])
        var i = 0
        while true {
            let key = StoreKey(resource: "llmops.io/llmdeployments", namespace: "crash", name: "obj-\(i % 50)")
            let object: JSONValue = ["metadata": ["name": .string(key.name)], "spec": ["n": .int(Int64(i))]]
            let stored = try await write(store, key, object)
            // An unbuffered write: a line is printed only after the store acknowledged the write.
            FileHandle.standardOutput.write(Data("\(stored["metadata"]!["resourceVersion"]!.stringValue!) \(key.name) \(i)\n".utf8))
            i += 1
        }
    }

    static func write(_ store: ObjectStore, _ key: StoreKey, _ object: JSONValue) async throws -> JSONValue {
        do {
            return try await store.update(key, object)
        } catch StoreError.notFound {
            return try await store.create(key, object)
        }
    }
}

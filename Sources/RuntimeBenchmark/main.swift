// `hack/bench-runtime.sh`: a no-op controller over ScalingPolicies, the Swift side of the
// comparison with kopf. Prints `count N` each time another 1,000 reconciles have finished,
// so the harness can time the initial sync and later bursts. It caches the operator's own typed
// ScalingPolicy, as the real ScalingPolicy controller will.
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import LLMOpsAPI
import Logging

MallocTuning.useSingleArena()
let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: RuntimeBenchmark KUBECONFIG [workers]\n".utf8))
    exit(2)
}
var config = try ClientConfiguration.load(kubeconfig: arguments[1])
// Informers list and watch once; reconciles make no requests. A generous limit keeps the
// comparison about the runtime, not the throttle.
config.qps = 100
config.burst = 200
let client = try KubeClient(config)
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
let manager = Manager(client: client)
let reconciled = LockedValue(0)
let workers = arguments.count > 2 ? Int(arguments[2]) ?? 4 : 4
manager.controller("noop").for(ScalingPolicy.self).concurrency(workers).complete { _, _ in
    let n = reconciled.withLock { n -> Int in
        n += 1
        return n
    }
    if n % 1000 == 0 {
        // Unbuffered, so the harness times the line when it is written.
        FileHandle.standardOutput.write(Data("count \(n)\n".utf8))
    }
    return .done
}
signal(SIGTERM, SIG_IGN)
let stop = DispatchSource.makeSignalSource(signal: SIGTERM)
stop.setEventHandler { manager.stop() }
stop.resume()
try await manager.run()
await client.shutdown()

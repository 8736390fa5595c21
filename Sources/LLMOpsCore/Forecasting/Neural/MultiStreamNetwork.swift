import Foundation

/// The design's multi-stream network, small enough to train online in plain Swift:
/// - a convolutional stream (kernel 3, ReLU, average pooling) over a window of resource-use
///   samples (request rate, token throughput, KV-cache use, queue depth);
/// - a recurrent stream (Elman RNN, tanh) over the same window of performance metrics (TTFT, ITL);
/// - a dense stream (ReLU) over deployment parameters (replicas, capacity per replica);
/// - a fused dense layer (ReLU) and a linear head predicting load and latency at the horizon.
/// Gradients are computed by hand (backpropagation through time for the recurrent stream) and
/// checked against finite differences in the tests; Adam updates the weights.
public struct MultiStreamNetwork: Sendable {
    public struct Shape: Sendable, Hashable {
        public var window: Int
        public var resourceChannels: Int
        public var performanceChannels: Int
        public var deploymentInputs: Int
        public var filters: Int
        public var hidden: Int
        public var dense: Int
        public var fused: Int
        public var outputs: Int

        public init(window: Int = 12, resourceChannels: Int = 4, performanceChannels: Int = 2, deploymentInputs: Int = 2, filters: Int = 6, hidden: Int = 6, dense: Int = 3, fused: Int = 12, outputs: Int = 2) {
            self.window = window
            self.resourceChannels = resourceChannels
            self.performanceChannels = performanceChannels
            self.deploymentInputs = deploymentInputs
            self.filters = filters
            self.hidden = hidden
            self.dense = dense
            self.fused = fused
            self.outputs = outputs
        }
    }

    /// One training or prediction example.
    public struct Input: Sendable {
        /// window × resourceChannels, oldest first.
        public var resources: [[Double]]
        /// window × performanceChannels, oldest first.
        public var performance: [[Double]]
        public var deployment: [Double]
        public init(resources: [[Double]], performance: [[Double]], deployment: [Double]) {
            self.resources = resources
            self.performance = performance
            self.deployment = deployment
        }
    }

    public let shape: Shape
    /// All weights in one array; `Layout` names the slices.
    public var parameters: [Double]
    private var adamM: [Double]
    private var adamV: [Double]
    private var adamStep = 0
    public var learningRate: Double = 0.003

    struct Layout {
        let convW, convB, rnnWx, rnnWh, rnnB, denseW, denseB, fuseW, fuseB, headW, headB: Range<Int>
        let count: Int
        init(_ s: Shape) {
            var at = 0
            func take(_ n: Int) -> Range<Int> {
                defer { at += n }
                return at..<(at + n)
            }
            convW = take(s.filters * 3 * s.resourceChannels)
            convB = take(s.filters)
            rnnWx = take(s.hidden * s.performanceChannels)
            rnnWh = take(s.hidden * s.hidden)
            rnnB = take(s.hidden)
            denseW = take(s.dense * s.deploymentInputs)
            denseB = take(s.dense)
            let z = s.filters + s.hidden + s.dense
            fuseW = take(s.fused * z)
            fuseB = take(s.fused)
            headW = take(s.outputs * s.fused)
            headB = take(s.outputs)
            count = at
        }
    }

    var layout: Layout { Layout(shape) }

    /// Weights drawn from a seeded generator (Glorot-uniform scale per layer).
    public init(shape: Shape = Shape(), seed: UInt64) {
        self.shape = shape
        let l = Layout(shape)
        var rng = SeededGenerator(seed: seed)
        var p = Array(repeating: 0.0, count: l.count)
        func fill(_ r: Range<Int>, fanIn: Int, fanOut: Int) {
            let a = (6.0 / Double(fanIn + fanOut)).squareRoot()
            for i in r { p[i] = Double.random(in: -a...a, using: &rng) }
        }
        fill(l.convW, fanIn: 3 * shape.resourceChannels, fanOut: shape.filters)
        fill(l.rnnWx, fanIn: shape.performanceChannels, fanOut: shape.hidden)
        fill(l.rnnWh, fanIn: shape.hidden, fanOut: shape.hidden)
        fill(l.denseW, fanIn: shape.deploymentInputs, fanOut: shape.dense)
        fill(l.fuseW, fanIn: shape.filters + shape.hidden + shape.dense, fanOut: shape.fused)
        fill(l.headW, fanIn: shape.fused, fanOut: shape.outputs)
        parameters = p
        adamM = Array(repeating: 0, count: l.count)
        adamV = Array(repeating: 0, count: l.count)
    }

    /// Intermediate values of a forward pass, kept for backpropagation.
    struct Trace {
        var conv: [[Double]] = []  // filters × positions, after ReLU
        var pooled: [Double] = []
        var hiddenStates: [[Double]] = []  // window + 1 states, h0 = 0
        var dense: [Double] = []
        var z: [Double] = []
        var fused: [Double] = []
        var output: [Double] = []
    }

    public func predict(_ x: Input) -> [Double] { forward(x).output }

    func forward(_ x: Input) -> Trace {
        let s = shape, l = layout, p = parameters
        var t = Trace()
        let positions = s.window - 2
        t.conv = (0..<s.filters).map { k in
            (0..<positions).map { pos in
                var a = p[l.convB.lowerBound + k]
                for j in 0..<3 {
                    for c in 0..<s.resourceChannels {
                        a += p[l.convW.lowerBound + (k * 3 + j) * s.resourceChannels + c] * x.resources[pos + j][c]
                    }
                }
                return max(0, a)
            }
        }
        t.pooled = t.conv.map { $0.reduce(0, +) / Double(positions) }
        var h = Array(repeating: 0.0, count: s.hidden)
        t.hiddenStates = [h]
        for step in 0..<s.window {
            var next = Array(repeating: 0.0, count: s.hidden)
            for i in 0..<s.hidden {
                var a = p[l.rnnB.lowerBound + i]
                for c in 0..<s.performanceChannels { a += p[l.rnnWx.lowerBound + i * s.performanceChannels + c] * x.performance[step][c] }
                for j in 0..<s.hidden { a += p[l.rnnWh.lowerBound + i * s.hidden + j] * h[j] }
                next[i] = tanh(a)
            }
            h = next
            t.hiddenStates.append(h)
        }
        t.dense = (0..<s.dense).map { i in
            var a = p[l.denseB.lowerBound + i]
            for c in 0..<s.deploymentInputs { a += p[l.denseW.lowerBound + i * s.deploymentInputs + c] * x.deployment[c] }
            return max(0, a)
        }
        t.z = t.pooled + h + t.dense
        t.fused = (0..<s.fused).map { i in
            var a = p[l.fuseB.lowerBound + i]
            for j in 0..<t.z.count { a += p[l.fuseW.lowerBound + i * t.z.count + j] * t.z[j] }
            return max(0, a)
        }
        t.output = (0..<s.outputs).map { o in
            var a = p[l.headB.lowerBound + o]
            for j in 0..<s.fused { a += p[l.headW.lowerBound + o * s.fused + j] * t.fused[j] }
            return a
        }
        return t
    }

    /// Half the masked squared error, and its gradient with respect to every parameter.
    func lossAndGradient(_ x: Input, target: [Double], mask: [Double]) -> (Double, [Double]) {
        let s = shape, l = layout, p = parameters
        let t = forward(x)
        var g = Array(repeating: 0.0, count: p.count)
        var loss = 0.0
        var dOut = Array(repeating: 0.0, count: s.outputs)
        for o in 0..<s.outputs {
            let e = (t.output[o] - target[o]) * mask[o]
            loss += 0.5 * e * e
            dOut[o] = e
        }
        // Head.
        var dFused = Array(repeating: 0.0, count: s.fused)
        for o in 0..<s.outputs {
            g[l.headB.lowerBound + o] += dOut[o]
            for j in 0..<s.fused {
                g[l.headW.lowerBound + o * s.fused + j] += dOut[o] * t.fused[j]
                dFused[j] += p[l.headW.lowerBound + o * s.fused + j] * dOut[o]
            }
        }
        // Fusion layer.
        var dz = Array(repeating: 0.0, count: t.z.count)
        for i in 0..<s.fused where t.fused[i] > 0 {
            let d = dFused[i]
            g[l.fuseB.lowerBound + i] += d
            for j in 0..<t.z.count {
                g[l.fuseW.lowerBound + i * t.z.count + j] += d * t.z[j]
                dz[j] += p[l.fuseW.lowerBound + i * t.z.count + j] * d
            }
        }
        let dPooled = Array(dz[0..<s.filters])
        var dh = Array(dz[s.filters..<(s.filters + s.hidden)])
        let dDense = Array(dz[(s.filters + s.hidden)...])
        // Dense stream.
        for i in 0..<s.dense where t.dense[i] > 0 {
            g[l.denseB.lowerBound + i] += dDense[i]
            for c in 0..<s.deploymentInputs { g[l.denseW.lowerBound + i * s.deploymentInputs + c] += dDense[i] * x.deployment[c] }
        }
        // Convolutional stream: average pooling spreads the gradient evenly over positions.
        let positions = s.window - 2
        for k in 0..<s.filters {
            let share = dPooled[k] / Double(positions)
            for pos in 0..<positions where t.conv[k][pos] > 0 {
                g[l.convB.lowerBound + k] += share
                for j in 0..<3 {
                    for c in 0..<s.resourceChannels {
                        g[l.convW.lowerBound + (k * 3 + j) * s.resourceChannels + c] += share * x.resources[pos + j][c]
                    }
                }
            }
        }
        // Recurrent stream: backpropagation through time.
        for step in stride(from: s.window, to: 0, by: -1) {
            let h = t.hiddenStates[step], prev = t.hiddenStates[step - 1]
            var dPrev = Array(repeating: 0.0, count: s.hidden)
            for i in 0..<s.hidden {
                let da = dh[i] * (1 - h[i] * h[i])
                g[l.rnnB.lowerBound + i] += da
                for c in 0..<s.performanceChannels { g[l.rnnWx.lowerBound + i * s.performanceChannels + c] += da * x.performance[step - 1][c] }
                for j in 0..<s.hidden {
                    g[l.rnnWh.lowerBound + i * s.hidden + j] += da * prev[j]
                    dPrev[j] += p[l.rnnWh.lowerBound + i * s.hidden + j] * da
                }
            }
            dh = dPrev
        }
        return (loss, g)
    }

    /// One Adam step on one example (gradient norm clipped at 5); returns the loss before it.
    @discardableResult
    public mutating func train(_ x: Input, target: [Double], mask: [Double]? = nil) -> Double {
        let (loss, grad) = lossAndGradient(x, target: target, mask: mask ?? Array(repeating: 1, count: shape.outputs))
        let norm = grad.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let scale = norm > 5 ? 5 / norm : 1
        adamStep += 1
        let b1 = 0.9, b2 = 0.999, eps = 1e-8
        let c1 = 1 - pow(b1, Double(adamStep)), c2 = 1 - pow(b2, Double(adamStep))
        for i in parameters.indices {
            let gi = grad[i] * scale
            adamM[i] = b1 * adamM[i] + (1 - b1) * gi
            adamV[i] = b2 * adamV[i] + (1 - b2) * gi * gi
            parameters[i] -= learningRate * (adamM[i] / c1) / ((adamV[i] / c2).squareRoot() + eps)
        }
        return loss
    }
}

// Elementwise transcendental functions over raw buffers (scalar reference versions).
import RealModule

public enum VectorMath {
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = Float.exp(x[i]) }
    }
    public static func log(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = Float.log(x[i]) }
    }
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = Float.tanh(x[i]) }
    }
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = 1 / (1 + Float.exp(-x[i])) }
    }
    public static func softplus(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let v = x[i]; y[i] = max(v, 0) + Float.log(onePlus: Float.exp(-abs(v))) }
    }
}

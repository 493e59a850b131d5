// Convolution, channel bias, upsampling and pooling: the im2col path against
// direct summation, and every pullback against central finite differences
// of naive Double loops.

import Autodiff
import Foundation
import Tensors
import Testing
import TestSupport

/// The convolution of flat NCHW x with flat [O, C, k, k] w, in Double, by its definition.
func naiveConv2d(_ x: [Double], _ w: [Double], n: Int, c: Int, h: Int, width: Int, o: Int, k: Int,
                 stride: Int, padding: Int) -> [Double] {
    let ho = (h + 2 * padding - k) / stride + 1, wo = (width + 2 * padding - k) / stride + 1
    var y = [Double](repeating: 0, count: n * o * ho * wo)
    for s in 0..<n { for f in 0..<o { for i in 0..<ho { for j in 0..<wo {
        var sum = 0.0
        for ch in 0..<c { for a in 0..<k { for b in 0..<k {
            let ii = i * stride - padding + a, jj = j * stride - padding + b
            if ii < 0 || ii >= h || jj < 0 || jj >= width { continue }
            sum += w[((f * c + ch) * k + a) * k + b] * x[((s * c + ch) * h + ii) * width + jj]
        } } }
        y[((s * o + f) * ho + i) * wo + j] = sum
    } } } }
    return y
}

/// One convolution configuration: x [n, c, h, w], weight [o, c, k, k].
struct ConvolutionCase: CustomStringConvertible, Sendable {
    var n, c, h, w, o, k, stride, padding: Int
    var description: String { "\(n)x\(c)x\(h)x\(w) * \(o)x\(c)x\(k)x\(k) s\(stride) p\(padding)" }
    var input: [Int] { [n, c, h, w] }
    var weight: [Int] { [o, c, k, k] }
}

let convolutionCases: [ConvolutionCase] = [
    ConvolutionCase(n: 1, c: 1, h: 5, w: 5, o: 1, k: 3, stride: 1, padding: 1),
    ConvolutionCase(n: 2, c: 3, h: 7, w: 5, o: 4, k: 3, stride: 1, padding: 1),
    ConvolutionCase(n: 3, c: 2, h: 6, w: 6, o: 5, k: 3, stride: 2, padding: 1),
    ConvolutionCase(n: 2, c: 3, h: 9, w: 7, o: 2, k: 4, stride: 2, padding: 1),
    ConvolutionCase(n: 1, c: 2, h: 4, w: 4, o: 3, k: 4, stride: 1, padding: 0),
    ConvolutionCase(n: 2, c: 4, h: 3, w: 5, o: 3, k: 1, stride: 1, padding: 0),
    ConvolutionCase(n: 2, c: 2, h: 5, w: 7, o: 2, k: 1, stride: 2, padding: 0),
    ConvolutionCase(n: 1, c: 2, h: 3, w: 3, o: 2, k: 3, stride: 2, padding: 2),
    ConvolutionCase(n: 1, c: 1, h: 1, w: 2, o: 2, k: 4, stride: 2, padding: 2),
]

@Test("im2col convolution equals direct summation", arguments: convolutionCases)
func im2colMatchesDirectConvolution(_ q: ConvolutionCase) {
    let x = randomTensor(q.input, seed: 3), w = randomTensor(q.weight, seed: 4)
    let fast = Tensor.conv2d(x, w, stride: q.stride, padding: q.padding)
    let direct = Tensor.conv2dDirect(x, w, stride: q.stride, padding: q.padding)
    #expect(fast.shape == direct.shape)
    let naive = naiveConv2d(x.scalars.map(Double.init), w.scalars.map(Double.init), n: q.n, c: q.c, h: q.h, width: q.w,
                            o: q.o, k: q.k, stride: q.stride, padding: q.padding)
    #expect(difference(fast.scalars.map(Double.init), direct.scalars.map(Double.init), floor: 1).maxAbsolute < 1e-5)
    #expect(difference(direct.scalars.map(Double.init), naive, floor: 1).maxAbsolute < 1e-5)
}

@Test func convolution_by_hand() {
    // A 3x3 all-ones kernel with padding 1 sums each 3x3 neighbourhood.
    let x = Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
    let y = Tensor.conv2d(x, Tensor.ones([1, 1, 3, 3]), padding: 1)
    #expect(y.scalars == [12, 21, 16, 27, 45, 33, 24, 39, 28])
    // Stride 2 keeps the corners and the centre row/column crossings.
    #expect(Tensor.conv2d(x, Tensor.ones([1, 1, 3, 3]), stride: 2, padding: 1).scalars == [12, 16, 24, 28])
}

@Test func col2im_is_the_adjoint_of_im2col() {
    for q in convolutionCases {
        let geometry = ConvolutionGeometry(input: q.input, weight: q.weight, stride: q.stride, padding: q.padding)
        let x = randomTensor(q.input, seed: 5)
        let u = randomTensor([geometry.patchSize, geometry.patchCount], seed: 6)
        let lhs = zip(Tensor.im2col(x, geometry: geometry).scalars, u.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x.scalars, Tensor.col2im(u, geometry: geometry).scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(lhs - rhs) < 1e-4 * max(1, abs(lhs)), "\(q): \(lhs) vs \(rhs)")
    }
}

@Test("conv2d VJP matches central finite differences", arguments: convolutionCases)
func convolutionVJP(_ q: ConvolutionCase) {
    let result = checkGradients([randomTensor(q.input, seed: 7), randomTensor(q.weight, seed: 8)],
                                operation: { $0[0].conv2d($0[1], stride: q.stride, padding: q.padding) },
                                reference: { naiveConv2d($0[0], $0[1], n: q.n, c: q.c, h: q.h, width: q.w, o: q.o, k: q.k,
                                                         stride: q.stride, padding: q.padding) })
    #expect(result.worst < 2e-3, "\(q): \(result)")
}

@Test func convolution_with_a_constant_input_skips_its_gradient() {
    let q = convolutionCases[2]
    for constant in [0, 1] {
        let result = checkGradients([randomTensor(q.input, seed: 7), randomTensor(q.weight, seed: 8)], constant: [constant],
                                    operation: { $0[0].conv2d($0[1], stride: q.stride, padding: q.padding) },
                                    reference: { naiveConv2d($0[0], $0[1], n: q.n, c: q.c, h: q.h, width: q.w, o: q.o,
                                                             k: q.k, stride: q.stride, padding: q.padding) })
        #expect(result.worst < 2e-3, "constant \(constant): \(result)")
        #expect(result.gradients[constant].maxAbsolute == 0)
    }
}

func naiveUpsample(_ x: [Double], planes: Int, h: Int, w: Int) -> [Double] {
    var y = [Double](repeating: 0, count: planes * 4 * h * w)
    for p in 0..<planes { for i in 0..<(2 * h) { for j in 0..<(2 * w) {
        y[(p * 2 * h + i) * 2 * w + j] = x[(p * h + i / 2) * w + j / 2]
    } } }
    return y
}

func naiveAveragePool(_ x: [Double], planes: Int, h: Int, w: Int) -> [Double] {
    var y = [Double](repeating: 0, count: planes * h * w / 4)
    for p in 0..<planes { for i in 0..<h { for j in 0..<w {
        y[(p * (h / 2) + i / 2) * (w / 2) + j / 2] += x[(p * h + i) * w + j] / 4
    } } }
    return y
}

func naiveChannelBias(_ x: [Double], _ b: [Double], n: Int, c: Int, plane: Int) -> [Double] {
    (0..<x.count).map { x[$0] + b[($0 / plane) % c] }
}

func naiveSumOverChannels(_ x: [Double], c: Int, plane: Int) -> [Double] {
    var y = [Double](repeating: 0, count: c)
    for i in x.indices { y[(i / plane) % c] += x[i] }
    return y
}

let resamplingCases: [OperationCase] = [
    OperationCase(name: "upsample 2x", shapes: [[2, 3, 3, 5]], operation: { $0[0].upsampledNearest2x() },
                  reference: { naiveUpsample($0[0], planes: 6, h: 3, w: 5) }),
    OperationCase(name: "upsample 2x batch 1", shapes: [[1, 1, 1, 1]], operation: { $0[0].upsampledNearest2x() },
                  reference: { naiveUpsample($0[0], planes: 1, h: 1, w: 1) }),
    OperationCase(name: "average pool 2x2", shapes: [[2, 3, 4, 6]], operation: { $0[0].averagePooled2x2() },
                  reference: { naiveAveragePool($0[0], planes: 6, h: 4, w: 6) }),
    OperationCase(name: "average pool 2x2 batch 1", shapes: [[1, 1, 2, 2]], operation: { $0[0].averagePooled2x2() },
                  reference: { naiveAveragePool($0[0], planes: 1, h: 2, w: 2) }),
    OperationCase(name: "channel bias NCHW", shapes: [[2, 3, 2, 5], [3]], operation: { $0[0].addingChannelBias($0[1]) },
                  reference: { naiveChannelBias($0[0], $0[1], n: 2, c: 3, plane: 10) }),
    OperationCase(name: "channel bias NC", shapes: [[3, 4], [4]], operation: { $0[0].addingChannelBias($0[1]) },
                  reference: { naiveChannelBias($0[0], $0[1], n: 3, c: 4, plane: 1) }),
    OperationCase(name: "sum over channels", shapes: [[3, 2, 3, 1]], operation: { $0[0].sumOverChannels() },
                  reference: { naiveSumOverChannels($0[0], c: 2, plane: 3) }),
]

@Test("resampling and bias VJPs match central finite differences", arguments: resamplingCases)
func resamplingVJP(_ testCase: OperationCase) {
    let inputs = testCase.shapes.enumerated().map { randomTensor($1, seed: UInt64(31 + $0)) }
    let result = checkGradients(inputs, operation: testCase.operation, reference: testCase.reference)
    #expect(result.worst < 2e-3, "\(testCase.name): \(result)")
}

@Test func upsampling_and_pooling_by_hand() {
    let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
    let up = x.upsampledNearest2x()
    #expect(up.shape == [1, 1, 4, 4])
    #expect(up.scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    #expect(up.averagePooled2x2() == x)
    #expect(up.sumPooled2x2().scalars == [4, 8, 12, 16])
}

/// Batches large enough to be taken in several im2col blocks (one sample
/// at a time, blocks of 3 with a last block of 2 on the strided path, blocks
/// of 11 with a last one of 7 on the row-padded one) agree with the direct
/// loops and with gradients from one im2col matrix of the whole batch.
/// With 2 (or 3) BLAS threads the batch is also cut into one part per worker.
/// Stride-1 cases take the row-padded path (3x3, 4x4 unpadded, 1x1 direct),
/// the strided one the general im2col path.
@Test(arguments: [([3, 16, 32, 32], [2, 16, 3, 3], 1, 1), ([5, 8, 32, 32], [3, 8, 3, 3], 1, 1), ([5, 8, 32, 32], [3, 8, 4, 4], 2, 1),
                  ([7, 2, 4, 4], [3, 2, 3, 3], 1, 1), ([40, 8, 8, 8], [4, 8, 3, 3], 1, 1), ([9, 5, 4, 4], [6, 5, 4, 4], 1, 0),
                  ([5, 6, 7, 3], [4, 6, 1, 1], 1, 0), ([4, 3, 6, 5], [2, 3, 3, 3], 1, 2)],
      [1, 2, 3])
func blocked_convolution_matches_whole_batch_products(_ shapes: ([Int], [Int], Int, Int), threads: Int) {
    BLAS.withThreads(threads) { checkBlockedConvolution(shapes.0, shapes.1, shapes.2, shapes.3) }
}

func checkBlockedConvolution(_ input: [Int], _ weight: [Int], _ stride: Int, _ padding: Int) {
    let x = randomTensor(input, seed: 1), w = randomTensor(weight, seed: 2), q = ConvolutionGeometry(input: input, weight: weight, stride: stride, padding: padding)
    let (y, patches) = Tensor.conv2dKeepingPatches(x, w, stride: stride, padding: padding)
    let direct = Tensor.conv2dDirect(x, w, stride: stride, padding: padding)
    #expect(difference(y.scalars.map(Double.init), direct.scalars.map(Double.init), floor: 1).maxAbsolute < 1e-4)
    let g = randomTensor(q.outputShape, seed: 3)
    let (dx, dw) = Tensor.conv2dGradients(x, w, g, geometry: q, input: true, weight: true, patches: patches)
    let (_, dwAlone) = Tensor.conv2dGradients(x, w, g, geometry: q, input: false, weight: true)
    #expect(dwAlone == dw)
    let col = Tensor.im2col(x, geometry: q)
    let gt = g.reshaped([q.batch, q.outputChannels, q.outputHeight * q.outputWidth]).permuted([1, 0, 2])
        .reshaped([q.outputChannels, q.patchCount])
    let expectedW = Tensor.matmul(gt, col, transposeB: true).reshaped(q.weightShape)
    let expectedX = Tensor.col2im(Tensor.matmul(w.reshaped([q.outputChannels, q.patchSize]), gt, transposeA: true), geometry: q)
    #expect(difference(dw!.scalars.map(Double.init), expectedW.scalars.map(Double.init), floor: 1).maxRelative < 1e-4)
    #expect(difference(dx!.scalars.map(Double.init), expectedX.scalars.map(Double.init), floor: 1).maxRelative < 1e-4)
}

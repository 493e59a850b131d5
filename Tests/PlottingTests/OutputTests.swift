// Colormaps, fonts, image grids, PNG round trips, determinism and bad input.

import Testing
import ArrayIO
@testable import Plotting

#if canImport(Glibc)
import Glibc
#endif

/// A fresh temporary directory for one test.
private func temporaryDirectory() -> String {
    var template = Array("/tmp/plotting-test-XXXXXX".utf8CString)
    let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: p!)
}

private func rgb(_ c: Color) -> [Int] { [Int(c.r), Int(c.g), Int(c.b)] }

@Suite struct ColormapTests {
    // Reference bytes: matplotlib 3.11, round(255 * cmap(t)[:3]).
    @Test(arguments: [
        (Colormap.viridis, 0.0, [68, 1, 84]), (.viridis, 0.25, [59, 82, 139]),
        (.viridis, 0.5, [33, 145, 140]), (.viridis, 1.0, [253, 231, 37]),
        (.gnuplot, 0.0, [0, 0, 0]), (.gnuplot, 0.25, [128, 4, 255]),
        (.gnuplot, 0.5, [181, 32, 0]), (.gnuplot, 1.0, [255, 255, 0]),
        (.rdBu, 0.0, [103, 0, 31]), (.rdBu, 0.5, [246, 247, 247]), (.rdBu, 1.0, [5, 48, 97]),
        (.tab10, 0.0, [31, 119, 180]), (.tab10, 0.15, [255, 127, 14]),
    ])
    func spotValues(map: Colormap, t: Double, expected: [Int]) {
        #expect(rgb(map.color(at: t)) == expected)
    }

    @Test func namesAndClamping() {
        #expect(Colormap(name: "RDBU") == .rdBu)
        #expect(Colormap(name: "jet") == nil)
        #expect(Colormap.viridis.color(at: -3) == Colormap.viridis.color(at: 0))
        #expect(Colormap.viridis.color(at: 7) == Colormap.viridis.color(at: 1))
    }
}

@Suite struct FontTests {
    @Test func subsetHasTheCharactersAxisLabelsUse() {
        let font = Font.dejaVuSans
        #expect(font.unitsPerEm == 2048)
        for scalar in " ~09AZaz()\u{2212}\u{00D7}\u{00B0}αβγδεθλμστφψωΣΔΦΩ".unicodeScalars {
            #expect(font.glyphs[scalar.value] != nil, "missing U+\(String(scalar.value, radix: 16))")
        }
    }

    @Test func advancesAndKerning() {
        // DejaVu Sans: '0' advances 1303 units; kern(A, V) = -131.
        let size = 2048.0
        #expect(abs(TextRenderer.measure(Label("00"), size: size).width - 2606) < 1e-6)
        let av = TextRenderer.measure(Label("AV"), size: size).width
        #expect(abs(av - (1401 + 1401 - 131)) < 1e-6)
    }

    @Test func textInksInsideItsMeasuredBox() {
        var canvas = Canvas(width: 120, height: 40)
        canvas.drawText("I(X;T) β", at: Point(10, 30), size: 14)
        let e = TextRenderer.measure(Label("I(X;T) β"), size: 14)
        var inked = 0
        for y in 0..<40 {
            for x in 0..<120 where canvas.pixel(x: x, y: y).r < 128 {
                inked += 1
                #expect(Double(x) >= 9 && Double(x) <= 10 + e.width + 1)
                #expect(Double(y) >= 30 - e.ascent - 1 && Double(y) <= 30 + e.descent + 1)
            }
        }
        #expect(inked > 50)
    }

    @Test func rotatedTextRunsUpwards() {
        var canvas = Canvas(width: 40, height: 120)
        canvas.drawText("Epoch", at: Point(20, 60), size: 14, horizontal: .center, vertical: .center, rotation: 90)
        var minY = 120, maxY = 0, minX = 40, maxX = 0
        for y in 0..<120 { for x in 0..<40 where canvas.pixel(x: x, y: y).r < 128 {
            minY = min(minY, y); maxY = max(maxY, y); minX = min(minX, x); maxX = max(maxX, x)
        } }
        #expect(maxY - minY > 2 * (maxX - minX))   // tall and narrow
    }
}

@Suite struct ImageGridTests {
    @Test func eightByEightGridOf32PixelImages() throws {
        let grid = ImageGrid(values: [Float](repeating: 0.5, count: 64 * 3 * 32 * 32), shape: [64, 3, 32, 32])
        #expect(grid.gridSize == (274, 274))
        let c = try grid.render()
        #expect(c.width == 274 && c.height == 274)
        #expect(c.pixel(x: 0, y: 0).r == 0)          // padding, pad value 0
        #expect(c.pixel(x: 2, y: 2).r == 128)        // 0.5 * 255 + 0.5 = 128
        #expect(c.pixel(x: 34, y: 34).r == 0)        // the gap between images
        #expect(c.pixel(x: 36, y: 36).r == 128)
    }

    @Test func oneImageGetsNoPadding() throws {
        var grid = ImageGrid(values: [Float](repeating: 1, count: 32 * 32), shape: [1, 32, 32])
        grid.padding = 5
        let c = try grid.render()
        #expect(c.width == 32 && c.height == 32)
        #expect(c.pixel(x: 0, y: 0).r == 255)
    }

    @Test func partialLastRowAndPadColour() throws {
        var grid = ImageGrid(values: [Float](repeating: 0, count: 7 * 1 * 4 * 5), shape: [7, 1, 4, 5])
        grid.nrow = 3
        grid.padding = 1
        grid.padValue = .rgb(1, 0, 0.5)
        #expect(grid.gridSize == ((5 + 1) * 3 + 1, (4 + 1) * 3 + 1))
        let c = try grid.render()
        let pad = c.pixel(x: 0, y: 0)
        #expect([pad.r, pad.g, pad.b] == [255, 0, 128])
        // The 8th and 9th cells of the last row stay pad-coloured.
        #expect(c.pixel(x: 1 + 6 + 2, y: 1 + 10 + 2).r == 255)
        #expect(c.pixel(x: 1 + 2, y: 1 + 10 + 2).r == 0)
    }

    @Test func valuesMapToBytesAndNormalize() throws {
        // Values -0.5, 0, 0.2, 1, 2 map to bytes clamp(x * 255 + 0.5).
        let values: [Float] = [-0.5, 0, 0.2, 1, 2, 0.25]
        let raw = try ImageGrid(values: values, shape: [1, 1, 6]).render()
        #expect((0..<6).map { Int(raw.pixel(x: $0, y: 0).r) } == [0, 0, 51, 255, 255, 64])
        var n = ImageGrid(values: values, shape: [1, 1, 6])
        n.normalize = true   // min -0.5, max 2 -> (x + 0.5) / 2.5
        let c = try n.render()
        #expect((0..<6).map { Int(c.pixel(x: $0, y: 0).r) } == [0, 51, 71, 153, 255, 77])
        n.valueRange = (0, 1)
        let r = try n.render()
        #expect((0..<6).map { Int(r.pixel(x: $0, y: 0).r) } == [0, 0, 51, 255, 255, 64])
    }

    @Test func scaleEachNormalizesImagesSeparately() throws {
        var g = ImageGrid(values: [0, 1, 10, 30], shape: [2, 1, 2])
        g.normalize = true
        g.scaleEach = true
        g.padding = 0
        let c = try g.render()
        #expect([c.pixel(x: 0, y: 0).r, c.pixel(x: 1, y: 0).r, c.pixel(x: 2, y: 0).r, c.pixel(x: 3, y: 0).r] == [0, 255, 0, 255])
        g.scaleEach = false
        let d = try g.render()
        #expect(d.pixel(x: 1, y: 0).r == 9)   // 1/30 * 255 + 0.5
    }

    @Test func upscaleRepeatsPixels() throws {
        var g = ImageGrid(values: [0, 1, 1, 0], shape: [1, 2, 2])
        g.upscale = 3
        let c = try g.render()
        #expect(c.width == 6 && c.height == 6)
        #expect(c.pixel(x: 2, y: 2).r == 0 && c.pixel(x: 3, y: 2).r == 255 && c.pixel(x: 3, y: 3).r == 0)
    }
}

@Suite struct PNGTests {
    @Test func writtenPNGReadsBackToTheSamePixels() throws {
        let dir = temporaryDirectory()
        defer { AtomicFile.remove(dir + "/a.png"); AtomicFile.remove(dir + "/b.png"); rmdir(dir) }
        var bytes = [UInt8](repeating: 0, count: 23 * 17 * 4)
        var state: UInt32 = 12345
        for i in 0..<bytes.count {
            state = state &* 1664525 &+ 1013904223
            bytes[i] = UInt8(state >> 24)
        }
        let translucent = Canvas(width: 23, height: 17, pixels: bytes)
        try translucent.writePNG(to: dir + "/a.png")
        #expect(try Canvas.readPNG(from: dir + "/a.png").pixels == bytes)
        for i in stride(from: 3, to: bytes.count, by: 4) { bytes[i] = 255 }
        let opaque = Canvas(width: 23, height: 17, pixels: bytes)
        try opaque.writePNG(to: dir + "/b.png")
        let back = try Canvas.readPNG(from: dir + "/b.png")
        #expect(back.width == 23 && back.height == 17 && back.pixels == bytes)
    }

    /// PNG colour type: byte 25 of the file (in IHDR): 0 gray, 2 RGB, 6 RGBA.
    func colourType(_ png: [UInt8]) -> UInt8 { png[25] }

    @Test func grayCanvasesAreStoredAsGrayAndReadBack() throws {
        // Every gray level, then one pixel with red != green, then one translucent pixel.
        let w = 16, h = 16
        var pixels = [UInt8]()
        for v in 0..<(w * h) { pixels += [UInt8(v), UInt8(v), UInt8(v), 255] }
        let gray = Canvas(width: w, height: h, pixels: pixels)
        let png = try gray.pngData()
        #expect(colourType(png) == 0)
        #expect(try Canvas.decodePNG(png).pixels == pixels)

        var tinted = pixels
        tinted[4 * 77 + 1] &+= 1
        let colourPNG = try Canvas(width: w, height: h, pixels: tinted).pngData()
        #expect(colourType(colourPNG) == 2)
        #expect(try Canvas.decodePNG(colourPNG).pixels == tinted)

        var translucent = pixels
        translucent[4 * 200 + 3] = 128
        let alphaPNG = try Canvas(width: w, height: h, pixels: translucent).pngData()
        #expect(colourType(alphaPNG) == 6)
        #expect(try Canvas.decodePNG(alphaPNG).pixels == translucent)
    }

    @Test func grayImageGridIsAGrayPNG() throws {
        // (B, H, W) images: one channel, so the grid is gray unless the padding is coloured.
        let values = (0..<(6 * 5 * 4)).map { Float($0 % 17) / 16 }
        var grid = ImageGrid(values: values, shape: [6, 5, 4])
        grid.nrow = 3
        let canvas = try grid.render()
        #expect(colourType(try canvas.pngData()) == 0)
        #expect(try Canvas.decodePNG(try canvas.pngData()).pixels == canvas.pixels)
        grid.padValue = .rgb(1, 0, 0)
        #expect(colourType(try grid.render().pngData()) == 2)
    }

    @Test func largePNGsReadBack() throws {
        // 700 x 520 with a translucent disc, noise and, in the second copy, one translucent pixel.
        let w = 700, h = 520
        var canvas = Canvas(width: w, height: h)
        var path = Path()
        path.addCircle(center: Point(350, 260), radius: 200)
        canvas.fill(path, color: Color(r: 200, g: 30, b: 90, alpha: 0.7))
        var state: UInt32 = 99
        for i in 0..<(w * 40) {
            state = state &* 1664525 &+ 1013904223
            canvas.pixels[4 * i] = UInt8(state >> 24)
        }
        let png = try canvas.pngData()
        #expect(try Canvas.decodePNG(png).pixels == canvas.pixels)
        #expect(try canvas.pngData() == png)
        var translucent = canvas
        translucent.pixels[4 * (w * h - 1) + 3] = 7
        #expect(try Canvas.decodePNG(try translucent.pngData()).pixels == translucent.pixels)
    }

    @Test func malformedPNGIsAnErrorNamingTheFile() {
        #expect(throws: PNGError.self) { try Canvas.decodePNG(Array("not a png".utf8), path: "x.png") }
        do {
            _ = try Canvas.decodePNG(Array("not a png".utf8), path: "x.png")
        } catch {
            #expect("\(error)".hasPrefix("x.png: "))
        }
    }

    @Test func unwritablePathThrowsAndLeavesNoFile() throws {
        let dir = temporaryDirectory()
        defer { rmdir(dir) }
        let canvas = Canvas(width: 4, height: 4)
        #expect(throws: FileError.self) { try canvas.writePNG(to: dir + "/missing/figure.png") }
        #expect(try AtomicFile.listDirectory(dir).isEmpty)
    }
}

@Suite struct FigureTests {
    static let points: [InformationPlanePoint] = {
        var result = [InformationPlanePoint]()
        for e in 0..<20 {
            for l in 1...3 {
                let ixt: Double = Double(12 - 3 * l) + Double(e) * 0.05
                let ity: Double = 0.2 + 0.04 * Double(e) - 0.05 * Double(l)
                result.append(InformationPlanePoint(epoch: e, layer: l, ixt: ixt, ity: ity))
            }
        }
        return result
    }()

    @Test func sameFigureTwiceGivesTheSameBytes() throws {
        let f = InformationPlaneFigure(panels: [InformationPlanePanel(title: "tanh", points: Self.points)])
        let a = try f.render(width: 320, height: 240).pngData()
        let b = try f.render(width: 320, height: 240).pngData()
        #expect(a == b)
    }

    @Test func emptyTableIsAnError() {
        let f = InformationPlaneFigure(panels: [InformationPlanePanel(title: "run", points: [])])
        #expect(throws: PlotError.self) { try f.render() }
        #expect(throws: PlotError.self) { try InformationPlaneFigure(panels: []).render() }
    }

    @Test func nanPointsAreSkippedAndCounted() throws {
        var points = Self.points
        points[3].ixt = .nan
        points[7].ity = .infinity
        let f = InformationPlaneFigure(panels: [InformationPlanePanel(title: "run", points: points)])
        #expect(f.warnings == ["run: skipped 2 point(s) with NaN or infinite values"])
        let clean = InformationPlaneFigure(panels: [InformationPlanePanel(title: "run", points: Self.points)])
        #expect(clean.warnings.isEmpty)
        _ = try f.render(width: 200, height: 150)
    }

    @Test func twoTimesScaleDoublesTheCanvas() throws {
        let f = InformationPlaneFigure(panels: [InformationPlanePanel(title: "", points: Self.points)])
        let c = try f.render(width: 200, height: 150, scale: 2)
        #expect(c.width == 400 && c.height == 300)
    }
}

/// A 3x5 pixel font for captions in preview grids: digits, upper-case letters (lower case is
/// drawn as upper case) and `- _ . : / #`; anything else is drawn as a box.
enum BitmapFont {
    static let glyphWidth = 3, glyphHeight = 5

    /// Each glyph is five rows of three pixels, `#` on.
    private static let glyphs: [Character: [String]] = [
        "0": ["###", "#.#", "#.#", "#.#", "###"], "1": [".#.", "##.", ".#.", ".#.", "###"],
        "2": ["###", "..#", "###", "#..", "###"], "3": ["###", "..#", ".##", "..#", "###"],
        "4": ["#.#", "#.#", "###", "..#", "..#"], "5": ["###", "#..", "###", "..#", "###"],
        "6": ["###", "#..", "###", "#.#", "###"], "7": ["###", "..#", ".#.", ".#.", ".#."],
        "8": ["###", "#.#", "###", "#.#", "###"], "9": ["###", "#.#", "###", "..#", "###"],
        "A": [".#.", "#.#", "###", "#.#", "#.#"], "B": ["##.", "#.#", "##.", "#.#", "##."],
        "C": [".##", "#..", "#..", "#..", ".##"], "D": ["##.", "#.#", "#.#", "#.#", "##."],
        "E": ["###", "#..", "##.", "#..", "###"], "F": ["###", "#..", "##.", "#..", "#.."],
        "G": [".##", "#..", "#.#", "#.#", ".##"], "H": ["#.#", "#.#", "###", "#.#", "#.#"],
        "I": ["###", ".#.", ".#.", ".#.", "###"], "J": ["..#", "..#", "..#", "#.#", ".#."],
        "K": ["#.#", "#.#", "##.", "#.#", "#.#"], "L": ["#..", "#..", "#..", "#..", "###"],
        "M": ["#.#", "###", "###", "#.#", "#.#"], "N": ["##.", "#.#", "#.#", "#.#", "#.#"],
        "O": [".#.", "#.#", "#.#", "#.#", ".#."], "P": ["##.", "#.#", "##.", "#..", "#.."],
        "Q": [".#.", "#.#", "#.#", "##.", ".##"], "R": ["##.", "#.#", "##.", "#.#", "#.#"],
        "S": [".##", "#..", ".#.", "..#", "##."], "T": ["###", ".#.", ".#.", ".#.", ".#."],
        "U": ["#.#", "#.#", "#.#", "#.#", "###"], "V": ["#.#", "#.#", "#.#", "#.#", ".#."],
        "W": ["#.#", "#.#", "###", "###", "#.#"], "X": ["#.#", "#.#", ".#.", "#.#", "#.#"],
        "Y": ["#.#", "#.#", ".#.", ".#.", ".#."], "Z": ["###", "..#", ".#.", "#..", "###"],
        "-": ["...", "...", "###", "...", "..."], "_": ["...", "...", "...", "...", "###"],
        ".": ["...", "...", "...", "...", ".#."], ":": ["...", ".#.", "...", ".#.", "..."],
        "/": ["..#", "..#", ".#.", "#..", "#.."], "#": ["#.#", "###", "#.#", "###", "#.#"],
        " ": ["...", "...", "...", "...", "..."],
    ]
    private static let box = ["###", "#.#", "#.#", "#.#", "###"]

    /// Whether pixel (`x`, `y`) of the glyph for `c` is on.
    static func isOn(_ c: Character, x: Int, y: Int) -> Bool {
        let rows = glyphs[Character(c.uppercased())] ?? box
        let row = Array(rows[y])
        return row[x] == "#"
    }

    /// Draws `text` into `image` with its top-left at (`x`, `y`), each font pixel a `scale`-pixel
    /// square of `color`; clipped at the image's edges.
    static func draw(_ text: String, into image: inout RGBImage, x: Int, y: Int, scale: Int, color: (UInt8, UInt8, UInt8)) {
        var cursor = x
        let (w, h) = (image.width, image.height)
        for c in text {
            for gy in 0..<glyphHeight { for gx in 0..<glyphWidth where isOn(c, x: gx, y: gy) {
                for dy in 0..<scale { for dx in 0..<scale {
                    let px = cursor + gx * scale + dx, py = y + gy * scale + dy
                    guard px >= 0, px < w, py >= 0, py < h else { continue }
                    let o = (py * w + px) * 3
                    image.pixels[o] = color.0; image.pixels[o + 1] = color.1; image.pixels[o + 2] = color.2
                } }
            } }
            cursor += (glyphWidth + 1) * scale
        }
    }
}

/// A contact sheet of images with a caption under each, for people to look at what a model sees.
public enum ImageGrid {
    /// Tiles `images` (each scaled to fit `tile` x `tile` with bilinear resampling, centred) in
    /// rows of `columns`, with `captions[i]` in a strip under tile `i`.
    public static func compose(_ images: [RGBImage], captions: [String], tile: Int = 128, columns: Int = 8) -> RGBImage {
        precondition(images.count == captions.count && tile > 0 && columns > 0)
        let scale = max(1, tile / 64), caption = (BitmapFont.glyphHeight + 2) * scale, gap = 2
        let cols = max(1, min(columns, images.count)), rows = max(1, (images.count + cols - 1) / cols)
        let width = cols * (tile + gap) + gap, height = rows * (tile + caption + gap) + gap
        var sheet = RGBImage(width: width, height: height, pixels: [UInt8](repeating: 32, count: width * height * 3))
        for (i, image) in images.enumerated() {
            let x0 = gap + (i % cols) * (tile + gap), y0 = gap + (i / cols) * (tile + caption + gap)
            let f = Double(tile) / Double(max(image.width, image.height))
            let w = max(1, min(tile, Int((Double(image.width) * f).rounded()))), h = max(1, min(tile, Int((Double(image.height) * f).rounded())))
            let fitted = Resampler.resize(image, width: w, height: h, filter: .bilinear)
            let ox = x0 + (tile - w) / 2, oy = y0 + (tile - h) / 2
            for y in 0..<h {
                let src = y * w * 3, dst = ((oy + y) * width + ox) * 3
                sheet.pixels.replaceSubrange(dst ..< dst + w * 3, with: fitted.pixels[src ..< src + w * 3])
            }
            let maxChars = tile / ((BitmapFont.glyphWidth + 1) * scale)
            BitmapFont.draw(String(captions[i].prefix(maxChars)), into: &sheet, x: x0, y: y0 + tile + scale, scale: scale,
                            color: (235, 235, 235))
        }
        return sheet
    }
}

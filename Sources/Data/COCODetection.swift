import Foundation

/// A COCO-format detection set: `instances_*.json` and its image folder.
///
/// Categories keep their COCO ids (not contiguous: 80 of 1...90 in the 2017 files) and get
/// contiguous indices in increasing id order, as detector training code uses them. Crowd
/// regions (`iscrowd = 1`) are kept: evaluation ignores detections matched to them.
public struct COCODetection: Sendable {
    /// One image entry.
    public struct Image: Codable, Sendable, Equatable {
        public var id: Int
        public var fileName: String
        public var width: Int
        public var height: Int
        enum CodingKeys: String, CodingKey { case id, fileName = "file_name", width, height }

        public init(id: Int, fileName: String, width: Int, height: Int) {
            self.id = id; self.fileName = fileName; self.width = width; self.height = height
        }
    }

    /// One annotation (segmentation is not read; `area` is the mask area the file states).
    public struct Annotation: Codable, Sendable, Equatable {
        public var id: Int
        public var imageID: Int
        public var categoryID: Int
        /// `[x, y, width, height]` in pixels from the top-left corner.
        public var bbox: [Double]
        public var area: Double
        public var isCrowd: Bool
        enum CodingKeys: String, CodingKey { case id, imageID = "image_id", categoryID = "category_id", bbox, area, iscrowd }

        public init(id: Int, imageID: Int, categoryID: Int, bbox: [Double], area: Double, isCrowd: Bool) {
            self.id = id; self.imageID = imageID; self.categoryID = categoryID; self.bbox = bbox; self.area = area; self.isCrowd = isCrowd
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int.self, forKey: .id)
            imageID = try c.decode(Int.self, forKey: .imageID)
            categoryID = try c.decode(Int.self, forKey: .categoryID)
            bbox = try c.decode([Double].self, forKey: .bbox)
            area = try c.decodeIfPresent(Double.self, forKey: .area) ?? (bbox.count == 4 ? bbox[2] * bbox[3] : 0)
            isCrowd = (try c.decodeIfPresent(Int.self, forKey: .iscrowd) ?? 0) != 0
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id); try c.encode(imageID, forKey: .imageID); try c.encode(categoryID, forKey: .categoryID)
            try c.encode(bbox, forKey: .bbox); try c.encode(area, forKey: .area); try c.encode(isCrowd ? 1 : 0, forKey: .iscrowd)
        }
    }

    /// One category.
    public struct Category: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        public var supercategory: String?

        public init(id: Int, name: String, supercategory: String? = nil) {
            self.id = id; self.name = name; self.supercategory = supercategory
        }
    }

    /// The three lists of an instances file, as read or written.
    public struct FileContents: Codable, Sendable {
        public var images: [Image]
        public var annotations: [Annotation]
        public var categories: [Category]

        public init(images: [Image], annotations: [Annotation], categories: [Category]) {
            self.images = images; self.annotations = annotations; self.categories = categories
        }
    }

    /// The annotation file.
    public let annotationsPath: String
    /// The folder the images are in.
    public let imageDirectory: String
    public let images: [Image]
    public let annotations: [Annotation]
    /// Categories in increasing id order; a category's contiguous index is its position here.
    public let categories: [Category]

    /// Reads and checks an annotation file: every annotation names an image and a category that
    /// exist and has a box of four finite numbers with non-negative size; ids are unique.
    public init(annotations path: String, images directory: String) throws(DatasetError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .missingFile(path: path, hint: "Expected a COCO instances_*.json annotation file.")
        }
        let file: FileContents
        do { file = try JSONDecoder().decode(FileContents.self, from: data) } catch let DecodingError.keyNotFound(key, context) {
            throw .invalidConfiguration("\(path): field '\(Self.fieldPath(context.codingPath + [key]))' is missing")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .invalidConfiguration("\(path): field '\(Self.fieldPath(context.codingPath))' has the wrong type: \(context.debugDescription)")
        } catch {
            throw .invalidConfiguration("\(path): not a COCO annotation file: \(error)")
        }
        let imageIDs = Set(file.images.map(\.id)), categoryIDs = Set(file.categories.map(\.id))
        guard imageIDs.count == file.images.count else { throw .invalidConfiguration("\(path): field 'images': duplicate image ids") }
        guard categoryIDs.count == file.categories.count else { throw .invalidConfiguration("\(path): field 'categories': duplicate category ids") }
        for (i, a) in file.annotations.enumerated() {
            guard imageIDs.contains(a.imageID) else {
                throw .invalidConfiguration("\(path): field 'annotations[\(i)].image_id': \(a.imageID) is not an image id")
            }
            guard categoryIDs.contains(a.categoryID) else {
                throw .invalidConfiguration("\(path): field 'annotations[\(i)].category_id': \(a.categoryID) is not a category id")
            }
            guard a.bbox.count == 4, a.bbox.allSatisfy(\.isFinite), a.bbox[2] >= 0, a.bbox[3] >= 0 else {
                throw .invalidConfiguration("\(path): field 'annotations[\(i)].bbox': expected [x, y, width, height] with width, height >= 0, found \(a.bbox)")
            }
        }
        annotationsPath = path
        imageDirectory = directory
        images = file.images
        annotations = file.annotations
        categories = file.categories.sorted { $0.id < $1.id }
    }

    /// The contiguous index of each category id.
    public var categoryIndex: [Int: Int] {
        Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1.id, $0) })
    }

    /// The path of an image's file.
    public func path(of image: Image) -> String { (imageDirectory as NSString).appendingPathComponent(image.fileName) }

    /// A decoding error's coding path as a field name: `annotations[3].image_id`.
    public static func fieldPath(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    }
}

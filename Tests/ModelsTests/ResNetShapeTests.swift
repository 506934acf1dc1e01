import XCTest
import Models
import NN

final class ResNetShapeTests: XCTestCase {
    func testCifarResNet50OutputShapeAndParameterCount() throws {
        // model_stats.json: resnet50_cifar_w0.25 (3x32x32, 100 classes) has 1,530,356 parameters.
        let model = ResNetBuilder(depth: .resnet50, variant: .cifar, width: 0.25, classes: 100).build()
        XCTAssertEqual(try model.outputShape(batch: 2), [2, 100])
        XCTAssertEqual(model.parameterCount, 1_530_356)
    }

    func testImageNetResNet18ParameterCount() throws {
        // torchvision resnet18: 11,689,512 parameters.
        let model = ResNetBuilder(depth: .resnet18, variant: .imagenet, classes: 1000).build()
        XCTAssertEqual(try model.outputShape(batch: 1), [1, 1000])
        XCTAssertEqual(model.parameterCount, 11_689_512)
    }
}

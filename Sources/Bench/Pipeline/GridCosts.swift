import Experiments
import Models
import NN

extension Grid {
    /// Costs every experiment from its model's MAC count, counted by building the model.
    public mutating func estimateCosts() throws {
        try estimateCosts { try $0.build().counts().macs }
    }
}

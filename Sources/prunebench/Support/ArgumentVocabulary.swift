import ArgumentParser
import Cluster
import Experiments

// Command-line options that take a value of a spec vocabulary parse it as the sweep files spell it.
extension DatasetName: ExpressibleByArgument {}
extension Scheme: ExpressibleByArgument {}
extension DrainMode: ExpressibleByArgument {}
extension Regularizer: ExpressibleByArgument {}

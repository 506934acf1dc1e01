/// The wire protocol this build speaks (`PBC/1`, cluster.md §5). Bumped when a message layout changes.
public enum ClusterProtocol {
    /// The protocol tag sent as the first frame of every message.
    public static let tag = "PBC/1"
    /// The protocol version number carried in HELLO and WELCOME.
    public static let version: UInt8 = 1
}

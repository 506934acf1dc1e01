import CDNNL
#if canImport(Glibc)
import Glibc
#endif

/// The one place oneDNN's engine, streams and primitives are created and owned.
///
/// Nothing outside `Tensor/Kernels/` sees a oneDNN handle: kernels hold ``DNNLPrimitive`` values
/// and pass tensors' pointers in.
enum DNNL {
    /// Argument indices (values of `DNNL_ARG_*` in dnnl_types.h).
    enum Arg {
        static let src: Int32 = 1, src1: Int32 = 2, dst: Int32 = 17, weights: Int32 = 33, bias: Int32 = 41
        static let mean: Int32 = 49, variance: Int32 = 50, scale: Int32 = 51, shift: Int32 = 52
        static let workspace: Int32 = 64
        static let diffSrc: Int32 = 129, diffDst: Int32 = 145, diffWeights: Int32 = 161, diffBias: Int32 = 169
        static let diffScale: Int32 = 255, diffShift: Int32 = 256
    }

    /// The CPU engine, created once.
    static let engine: EngineBox = EngineBox()

    final class EngineBox: @unchecked Sendable {
        let handle: dnnl_engine_t
        init() {
            var e: dnnl_engine_t?
            check(dnnl_engine_create(&e, dnnl_cpu, 0), "creating the oneDNN CPU engine")
            handle = e!
        }
    }

    /// A stream per thread (oneDNN streams are not thread-safe).
    static var stream: dnnl_stream_t {
        if let raw = pthread_getspecific(streamKey.key) { return OpaquePointer(raw) }
        var s: dnnl_stream_t?
        check(dnnl_stream_create(&s, engine.handle, UInt32(dnnl_stream_default_flags.rawValue)), "creating a oneDNN stream")
        pthread_setspecific(streamKey.key, UnsafeRawPointer(s!))
        return s!
    }

    private static let streamKey = StreamKey()
    final class StreamKey: @unchecked Sendable {
        var key = pthread_key_t()
        init() {
            pthread_key_create(&key) { raw in
                if let raw { dnnl_stream_destroy(OpaquePointer(raw)) }
            }
        }
    }

    /// Fails loudly on a oneDNN error. Kernels validate shapes before calling oneDNN, so a failure
    /// here is a bug (or an unsupported configuration), never bad user input.
    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        guard status != dnnl_success else { return }
        fatalError("oneDNN failed (status \(status.rawValue)) while \(what())")
    }

    /// A plain memory descriptor.
    static func memoryDesc(_ dims: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        var d = dims64(dims)
        withUnsafePointer(to: &d) { p in
            p.withMemoryRebound(to: Int64.self, capacity: 12) { dp in
                check(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), dp, dnnl_f32, tag),
                      "describing memory \(dims)")
            }
        }
        return md
    }

    /// A `dnnl_dims_t` (a C array of 12 int64) from Swift integers.
    static func dims64(_ v: [Int]) -> dnnl_dims_t {
        var d: dnnl_dims_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &d) { raw in
            let p = raw.bindMemory(to: Int64.self)
            for (i, x) in v.enumerated() { p[i] = Int64(x) }
        }
        return d
    }

    /// Elements described by `md` (including blocking padding).
    static func elementCount(_ md: dnnl_memory_desc_t) -> Int {
        var m = md
        return dnnl_memory_desc_get_size(&m) / MemoryLayout<Float>.stride
    }

    /// Bytes described by `md`.
    static func byteCount(_ md: dnnl_memory_desc_t) -> Int {
        var m = md
        return dnnl_memory_desc_get_size(&m)
    }

    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var x = a, y = b
        return dnnl_memory_desc_equal(&x, &y) != 0
    }
}

/// A created oneDNN primitive with one memory object per argument, whose data handles are set
/// on every execution.
final class DNNLPrimitive {
    let descriptor: dnnl_primitive_desc_t
    private let primitive: dnnl_primitive_t
    private var memories: [Int32: dnnl_memory_t] = [:]

    /// Creates the primitive from an op descriptor. Returns nil when oneDNN has no implementation.
    init?(opDesc: UnsafeRawPointer, hint: dnnl_primitive_desc_t? = nil) {
        var pd: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&pd, opDesc, nil, DNNL.engine.handle, hint) == dnnl_success,
              let pd else { return nil }
        var p: dnnl_primitive_t?
        DNNL.check(dnnl_primitive_create(&p, pd), "creating a primitive")
        descriptor = pd
        primitive = p!
    }

    /// Wraps a primitive descriptor created elsewhere (reorders).
    init(descriptor pd: dnnl_primitive_desc_t) {
        var p: dnnl_primitive_t?
        DNNL.check(dnnl_primitive_create(&p, pd), "creating a primitive")
        descriptor = pd
        primitive = p!
    }

    deinit {
        for m in memories.values { dnnl_memory_destroy(m) }
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// The memory descriptor oneDNN chose for a query (`dnnl_query_weights_md`, ...).
    func memoryDesc(_ what: dnnl_query_t, index: Int32 = 0) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(descriptor, what, index)!.pointee
    }

    /// Runs the primitive on the given (argument, pointer) pairs, each with its descriptor.
    func execute(_ args: [(Int32, UnsafeMutableRawPointer, dnnl_memory_desc_t)]) {
        var list = [dnnl_exec_arg_t]()
        list.reserveCapacity(args.count + 1)
        for (arg, ptr, md) in args {
            let mem: dnnl_memory_t
            if let m = memories[arg] {
                mem = m
            } else {
                var m: dnnl_memory_t?
                // Bind with the descriptor the primitive itself expects for this argument; the
                // caller's must describe the same bytes.
                var d = dnnl_primitive_desc_query_md(descriptor, dnnl_query_exec_arg_md, arg)!.pointee
                guard d.ndims > 0 else { fatalError("oneDNN primitive takes no argument \(arg)") }
                precondition(DNNL.elementCount(d) == DNNL.elementCount(md), "argument \(arg) size differs from the primitive's: \(DNNL.elementCount(d)) vs \(DNNL.elementCount(md))")
                DNNL.check(dnnl_memory_create(&m, &d, DNNL.engine.handle, nil), "creating memory for argument \(arg)")
                memories[arg] = m!
                mem = m!
            }
            DNNL.check(dnnl_memory_set_data_handle(mem, ptr), "binding argument \(arg)")
            list.append(dnnl_exec_arg_t(arg: arg, memory: mem))
        }
        list.withUnsafeBufferPointer { buf in
            DNNL.check(dnnl_primitive_execute(primitive, DNNL.stream, Int32(buf.count), buf.baseAddress),
                       "executing a primitive")
        }
        DNNL.check(dnnl_stream_wait(DNNL.stream), "waiting for a stream")
    }
}

/// A reorder between two layouts of the same tensor, with a scratch buffer for the target when
/// the layouts differ.
final class DNNLReorder {
    let source: dnnl_memory_desc_t
    let target: dnnl_memory_desc_t
    private let primitive: DNNLPrimitive?

    init(from source: dnnl_memory_desc_t, to target: dnnl_memory_desc_t) {
        self.source = source
        self.target = target
        if DNNL.equal(source, target) {
            primitive = nil
        } else {
            var pd: dnnl_primitive_desc_t?
            var s = source, t = target
            DNNL.check(dnnl_reorder_primitive_desc_create(&pd, &s, DNNL.engine.handle, &t, DNNL.engine.handle, nil),
                       "creating a reorder")
            primitive = DNNLPrimitive(descriptor: pd!)
        }
    }

    /// True when the two layouts are the same and no copy is needed.
    var isIdentity: Bool { primitive == nil }

    /// Copies `from` (in `source` layout) to `to` (in `target` layout).
    func run(from: UnsafeMutablePointer<Float>, to: UnsafeMutablePointer<Float>) {
        guard let primitive else {
            to.update(from: from, count: DNNL.elementCount(source))
            return
        }
        primitive.execute([(DNNL.Arg.src, UnsafeMutableRawPointer(from), source),
                           (DNNL.Arg.dst, UnsafeMutableRawPointer(to), target)])
    }
}

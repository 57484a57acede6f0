import FuzzDriver
import Foundation
import NurtureCore

/// The strict JSON reader behind the API and `--lead-json`. Invariants: no crash at any depth; whatever it
/// accepts JSONSerialization accepts too (it is stricter, never looser), with no duplicate key anywhere.
func unique(_ v: StrictJSON.Value) -> Bool {
    switch v {
    case .object(let m): Set(m.map(\.key)).count == m.count && m.allSatisfy { unique($0.value) }
    case .array(let a): a.allSatisfy(unique)
    default: true
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if case .success(let v) = StrictJSON.parse(bytes) {
        precondition(unique(v), "duplicate key accepted")
        precondition((try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil,
                     "accepted what JSONSerialization refuses")
    }
    return 0
}


@_cdecl("FuzzJSON_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt { FuzzDriver.run(argc, argv, fuzz) }

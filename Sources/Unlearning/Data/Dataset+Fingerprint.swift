extension Dataset {
  /// A 64-bit FNV-1a fingerprint of the ids, labels and the exact bit patterns of the features
  /// (hexadecimal, 16 digits). Model files record it so that a removal is only ever applied to
  /// the data the model was trained on. `O(n d)`.
  public var fingerprint: String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    @inline(__always) func mix(_ value: UInt64) {
      var v = value
      for _ in 0..<8 {
        hash ^= v & 0xff
        hash = hash &* 0x0000_0100_0000_01b3
        v >>= 8
      }
    }
    mix(UInt64(count))
    mix(UInt64(featureCount))
    for id in ids { mix(UInt64(bitPattern: Int64(id.rawValue))) }
    for label in labels { mix(UInt64(bitPattern: Int64(label))) }
    features.elements.withUnsafeBufferPointer { buffer in
      for x in buffer { mix(x.bitPattern) }
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }
}

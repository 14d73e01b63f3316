import Foundation
import Testing
import Unlearning

extension DataTests {
  @Suite("SampleID")
  struct SampleIDTests {
    @Test("encodes as a plain JSON integer and decodes back")
    func jsonIsPlainInteger() throws {
      let ids: [SampleID] = [1003, -2, 0]
      let data = try JSONEncoder().encode(ids)
      #expect(String(decoding: data, as: UTF8.self) == "[1003,-2,0]")
      #expect(try JSONDecoder().decode([SampleID].self, from: Data("[7,8]".utf8)) == [7, 8])
    }

    @Test("orders by value and prints the integer")
    func orderingAndDescription() {
      #expect(SampleID(3) < SampleID(10))
      #expect(([10, 3, 7] as [SampleID]).sorted() == [3, 7, 10])
      #expect("\(SampleID(1017))" == "1017")
    }
  }
}

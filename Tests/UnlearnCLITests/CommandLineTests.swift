import Testing
import UnlearnCLI

@Suite("Command-line parsing")
struct CommandLineTests {
  @Test func rejectsUnknownSubcommand() {
    #expect(throws: (any Error).self) { try Unlearn.parseAsRoot(["no-such-command"]) }
  }
}

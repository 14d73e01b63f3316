import ArgumentParser
import Foundation
import UnlearnCLI
import UnlearningDistributed

// Every rank parses the same arguments; only rank 0 prints help, results and errors. MPI is
// finalised on every path so mpirun sees a clean exit (non-zero after an error).
let world: Communicator
do {
  world = try Communicator.world()
} catch {
  FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
  exit(1)
}
var code: Int32 = 0
do {
  var command = try UnlearnMPI.parseAsRoot()
  try command.run()
} catch {
  let exitCode = UnlearnMPI.exitCode(for: error)
  if world.isRoot {
    let message = UnlearnMPI.fullMessage(for: error)
    if exitCode == .success {
      print(message)
    } else {
      FileHandle.standardError.write(Data("\(message)\n".utf8))
    }
  }
  code = exitCode.rawValue
  if code == 0 && !(error is CleanExit) { code = 1 }
}
Communicator.finalize()
exit(code)

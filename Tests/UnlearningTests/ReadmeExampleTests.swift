import Testing
import Unlearning

/// The README's library example, verbatim between the markers: it must compile and run.
@Suite("README example")
struct ReadmeExampleTests {
  @Test func libraryExampleRuns() throws {
    // README example begins
    let (train, test) = Scenario.Hospital.make(seed: 42)
    let model = LogisticRegression(featureCount: train.featureCount)
    let state = try TrainedModel.train(
      model: model, data: train, regularization: 1e-3, trainer: Training.Newton())
    let forget: [SampleID] = [1003, 1010, 1025]
    let newton = try NewtonRemoval().unlearn(state, forgetting: forget)  // one Newton step
    let retrain = try Retrain().unlearn(state, forgetting: forget)  // the reference
    print(newton.state.parameters.subtracting(retrain.state.parameters).norm())

    let privacy = try PrivacyParameters(epsilon: 1, delta: 1e-4, sigma: 1)
    let certified = try TrainedModel.trainCertified(  // b from the system's CSPRNG
      model: model, data: train, regularization: 1e-3, privacy: privacy)
    let removed = try CertifiedRemoval().unlearn(certified, forgetting: forget)
    if let certificate = removed.report.certificate { print(certificate) }  // one line
    print(removed.state.accuracy(on: test), removed.report.seconds)
    // README example ends
    #expect(removed.report.certificate?.isCertified == true)
    #expect(removed.state.certification?.certificates.count == 1)
  }
}

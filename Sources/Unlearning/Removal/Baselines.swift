/// Namespace for the approximate unlearning baselines from the literature. Each is an
/// ``Unlearner``, so it runs anywhere ``Retrain``, ``NewtonRemoval``, ``CertifiedRemoval``
/// and ``SISA`` run, and `unlearn compare` lists it beside them:
///
/// | type | `--methods` name | idea |
/// | --- | --- | --- |
/// | ``Baselines/GradientAscent`` | `gradient-ascent` | ascend the loss on the forgotten rows |
/// | ``Baselines/NegGradPlus`` | `neggrad-plus` | ascend on the forgotten rows, descend on the retained |
/// | ``Baselines/NaiveDeletion`` | `naive` | drop the rows and keep the parameters |
/// | ``Baselines/FineTune`` | `finetune` | a few epochs on the retained rows |
/// | ``Baselines/FisherForgetting`` | `fisher` | noise shaped by the retained-data Fisher diagonal |
/// | ``Baselines/SCRUB`` | `scrub` | teacher-student: stay close on retained rows, move away on forgotten |
///
/// None carries a certificate; their distance to retraining is what `compare` measures.
public enum Baselines {}

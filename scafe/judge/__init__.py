"""The segmentation judge's core (no LLM stack): is this mask of a scar clinically acceptable?

- :mod:`scafe.judge.descriptors` - trusted mask descriptors (shape, topology, boundary alignment,
  colour contrast, self-consistency), the evidence every reasoner works from;
- :mod:`scafe.judge.rules` - the segmentation target file and the deterministic four-stage rule
  reasoner (``reasoner: "rules"``); the LLM chain of the same four stages is ``agents.judge``;
- :mod:`scafe.judge.perturb` - failure-mode perturbations of ground truth, labelled by Dice;
- :mod:`scafe.judge.bench` and :mod:`scafe.judge.report` - the QA benchmark, its metrics and report;
- :mod:`scafe.judge.overlay` - PNG encodings (``--vision`` image parts, report figures).
"""

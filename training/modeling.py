"""Model classes used for training and loaded again by models/ for prediction.

``MaskedPositionsBertForMaskedLM`` is BertForMaskedLM with one change: the 21k-way decoder
runs only at the ~15% masked positions, which saves most of the memory and time of the
output layer. Its weights are exactly BertForMaskedLM's, so checkpoints load with
``BertForMaskedLM`` or ``AutoModelForTokenClassification``.
"""
from __future__ import annotations

import torch
from torch import nn
from transformers import BertConfig, BertForMaskedLM
from transformers.modeling_outputs import MaskedLMOutput


class MaskedPositionsBertForMaskedLM(BertForMaskedLM):
    """BertForMaskedLM whose loss gathers masked hidden states before the vocabulary projection.

    Without labels it behaves like the parent (full-sequence logits, for fill-mask use).
    With labels, ``logits`` holds only the masked positions, shape (n_masked, vocab).
    """

    # The loss is a per-batch mean; the Trainer then scales it for gradient accumulation itself.
    accepts_loss_kwargs = False

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs,
    ) -> MaskedLMOutput:
        if labels is None:
            return super().forward(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                position_ids=position_ids,
                **kwargs,
            )
        outputs = self.bert(
            input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            return_dict=True,
        )
        selected = labels != -100
        scores = self.cls(outputs.last_hidden_state[selected])
        # sum / count rather than mean: a batch with no masked token gives 0, not NaN
        loss = nn.functional.cross_entropy(scores.float(), labels[selected], reduction="sum")
        loss = loss / selected.sum().clamp(min=1)
        return MaskedLMOutput(loss=loss, logits=scores)


def plain_masked_lm(model: BertForMaskedLM) -> BertForMaskedLM:
    """A stock BertForMaskedLM with the same weights, so a release names a standard architecture."""
    plain = BertForMaskedLM(BertConfig.from_dict(model.config.to_dict()))
    plain.load_state_dict(model.state_dict())
    return plain

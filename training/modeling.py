"""Model classes used for training and loaded again by models/ for prediction.

``BertCrfForTokenClassification`` adds an IOB2-constrained CRF on top of BERT's emissions; use
``load_token_classifier`` to load any fine-tuned tagger with the class it was trained as.

``MaskedPositionsBertForMaskedLM`` is BertForMaskedLM with one change: the 21k-way decoder
runs only at the ~15% masked positions, which saves most of the memory and time of the
output layer. Its weights are exactly BertForMaskedLM's, so checkpoints load with
``BertForMaskedLM`` or ``AutoModelForTokenClassification``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForTokenClassification,
    BertConfig,
    BertForMaskedLM,
    BertForTokenClassification,
    BertModel,
    BertPreTrainedModel,
)
from transformers.modeling_outputs import MaskedLMOutput
from transformers.utils import ModelOutput


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


def iob2_transition_mask(tags: list[str]) -> torch.Tensor:
    """allowed[i, j]: tag j may follow tag i under IOB2 (I-X only after B-X or I-X)."""
    allowed = torch.ones(len(tags), len(tags), dtype=torch.bool)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            for i, previous in enumerate(tags):
                allowed[i, j] = previous[2:] == tag[2:] and previous[:2] in ("B-", "I-")
    return allowed


class IOB2CRF(nn.Module):
    """Linear-chain CRF whose invalid IOB2 transitions are fixed at -1e4, so decoding never
    yields an I- tag that does not continue its entity. Sequences start at the [CLS] token,
    which is held at O, so the first real token cannot be I- either."""

    def __init__(self, tags: list[str]):
        super().__init__()
        self.tags = list(tags)
        self.outside = self.tags.index("O")
        self.transitions = nn.Parameter(torch.zeros(len(tags), len(tags)))

    def _scores(self) -> torch.Tensor:
        allowed = iob2_transition_mask(self.tags).to(self.transitions.device)
        return self.transitions.masked_fill(~allowed, -1e4)

    def _first(self, emissions: torch.Tensor) -> torch.Tensor:
        """Scores at position 0, the [CLS] token: only O may start a path."""
        start = torch.full_like(emissions[:, 0], -1e4)
        start[:, self.outside] = 0
        return emissions[:, 0] + start

    def neg_log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood over the batch; ``mask`` is left-aligned (real tokens first)."""
        emissions, mask = emissions.float(), mask.bool()
        trans = self._scores()
        batch = torch.arange(emissions.size(0), device=emissions.device)
        first = self._first(emissions)
        gold = first[batch, tags[:, 0]]
        alpha = first
        for t in range(1, emissions.size(1)):
            step = mask[:, t]
            gold = gold + (trans[tags[:, t - 1], tags[:, t]] + emissions[batch, t, tags[:, t]]) * step
            nxt = torch.logsumexp(alpha.unsqueeze(2) + trans + emissions[:, t].unsqueeze(1), dim=1)
            alpha = torch.where(step.unsqueeze(1), nxt, alpha)
        return (torch.logsumexp(alpha, dim=1) - gold).mean()

    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """p(tag at t = k | sentence) by forward-backward, shape (batch, seq, tags).

        A CRF's emissions alone are not probabilities (the transitions carry part of the decision:
        a B- tag often has a low emission softmax), so confidences come from these marginals."""
        emissions, mask = emissions.float(), mask.bool()
        trans = self._scores()
        alphas = [self._first(emissions)]
        for t in range(1, emissions.size(1)):
            nxt = torch.logsumexp(alphas[-1].unsqueeze(2) + trans, dim=1) + emissions[:, t]
            alphas.append(torch.where(mask[:, t].unsqueeze(1), nxt, alphas[-1]))
        betas = [torch.zeros_like(alphas[0])]
        for t in range(emissions.size(1) - 2, -1, -1):
            nxt = torch.logsumexp(trans + (emissions[:, t + 1] + betas[0]).unsqueeze(1), dim=2)
            betas.insert(0, torch.where(mask[:, t + 1].unsqueeze(1), nxt, torch.zeros_like(nxt)))
        return (torch.stack(alphas, 1) + torch.stack(betas, 1)).softmax(-1)

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Viterbi paths, shape (batch, seq); positions outside ``mask`` hold 0 (O)."""
        emissions, mask = emissions.float(), mask.bool()
        trans = self._scores()
        score = self._first(emissions)
        history = []
        for t in range(1, emissions.size(1)):
            best, index = (score.unsqueeze(2) + trans).max(dim=1)
            history.append(index)
            score = torch.where(mask[:, t].unsqueeze(1), best + emissions[:, t], score)
        lengths = mask.sum(1)
        paths = torch.zeros_like(mask, dtype=torch.long)
        last = score.argmax(1)
        for b in range(emissions.size(0)):
            tag = int(last[b])
            paths[b, lengths[b] - 1] = tag
            for t in range(int(lengths[b]) - 1, 0, -1):
                tag = int(history[t - 1][b, tag])
                paths[b, t - 1] = tag
        return paths


@dataclass
class CrfTokenClassifierOutput(ModelOutput):
    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None  # emissions
    tags: torch.Tensor | None = None  # Viterbi path per token, in eval mode


class BertCrfForTokenClassification(BertPreTrainedModel):
    """BERT + linear emissions + IOB2-constrained CRF. ``config.use_crf`` marks its checkpoints;
    ``load_token_classifier`` picks this class for them.

    With ``config.rule_features`` each token's rule tag (training.rule_features) is embedded and added
    to its word embedding; that table starts at zero, so training starts from the base encoder as is."""

    accepts_loss_kwargs = False

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.crf = IOB2CRF([config.id2label[i] for i in range(config.num_labels)])
        self.rule_embeddings = (
            nn.Embedding(config.num_labels, config.hidden_size) if getattr(config, "rule_features", False) else None
        )
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, IOB2CRF):
            nn.init.zeros_(module.transitions)
        elif module is self.rule_embeddings:
            nn.init.zeros_(module.weight)
        else:
            super()._init_weights(module)

    def emissions(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        rule_ids: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Per-token label scores, before the CRF."""
        if self.rule_embeddings is None:
            hidden = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        else:
            if rule_ids is None:
                raise ValueError("this model was trained with rule features: pass rule_ids (training.rule_features)")
            embeds = self.bert.embeddings.word_embeddings(input_ids) + self.rule_embeddings(rule_ids)
            hidden = self.bert(inputs_embeds=embeds, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return self.classifier(self.dropout(hidden.last_hidden_state))

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        rule_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs,
    ) -> CrfTokenClassifierOutput:
        emissions = self.emissions(input_ids, attention_mask, rule_ids, token_type_ids)
        mask = attention_mask.bool() if attention_mask is not None else torch.ones_like(input_ids, dtype=torch.bool)
        loss = None
        if labels is not None:
            # special tokens carry IGNORE; the CRF scores them as O so that every path is contiguous
            loss = self.crf.neg_log_likelihood(emissions, labels.clamp(min=0), mask)
        tags = None if self.training else self.crf.decode(emissions, mask)
        return CrfTokenClassifierOutput(loss=loss, logits=emissions, tags=tags)


def load_token_classifier(path: str, **kwargs) -> BertForTokenClassification | BertCrfForTokenClassification:
    """Load a fine-tuned tagger with the class it was trained as (CRF or softmax), in float32."""
    config = AutoConfig.from_pretrained(path)
    cls = BertCrfForTokenClassification if getattr(config, "use_crf", False) else AutoModelForTokenClassification
    return cls.from_pretrained(path, dtype=torch.float32, **kwargs)

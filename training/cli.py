"""`gazette-ner pretrain | train | dataset build`: the training stage's commands.

Each command imports its module only when it runs, so `gazette-ner --help` stays fast and
pretraining works on a machine without `datasets` or `seqeval`.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _lazy(module: str):
    def run(args: argparse.Namespace) -> int:
        return importlib.import_module(module).run(args)

    return run


def register(subparsers: argparse._SubParsersAction) -> None:
    pretrain = subparsers.add_parser("pretrain", help="masked-LM pretraining of a small Chinese BERT")
    pretrain.add_argument("--config", required=True, type=Path, help="YAML config, e.g. configs/pretrain-small.yaml")
    pretrain.add_argument("--max-steps", type=int, help="override training.max_steps")
    pretrain.add_argument("--output-dir", type=Path, help="override training.output_dir (release goes to DIR/final)")
    pretrain.add_argument("--release-dir", type=Path, help="override training.release_dir")
    pretrain.set_defaults(func=_lazy("training.pretrain"))

    train = subparsers.add_parser("train", help="fine-tune a BERT(+CRF) tagger on the gold dataset")
    train.add_argument("--config", required=True, type=Path, help="YAML config, e.g. configs/ner-small.yaml")
    train.add_argument("--output-dir", type=Path, help="override training.output_dir (model goes to DIR/final)")
    train.add_argument("--max-steps", type=int, help="override training.max_steps")
    train.add_argument("--seed", type=int, help="override training.seed")
    train.add_argument("--epochs", type=float, help="override training.num_train_epochs")
    train.add_argument("--learning-rate", type=float, help="override training.learning_rate")
    train.set_defaults(func=_lazy("training.finetune"))

    dataset = subparsers.add_parser("dataset", help="build the Hugging Face dataset from gold and silver files")
    actions = dataset.add_subparsers(dest="dataset_command", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="annotation/gold/{train,dev,test}.jsonl (+ silver) -> DatasetDict on disk")
    build.add_argument("--gold", type=Path, default=REPO_ROOT / "annotation" / "gold",
                       help="folder with train/dev/test.jsonl")
    build.add_argument("--silver", type=Path, default=REPO_ROOT / "annotation" / "silver",
                       help="folder of silver *.jsonl")
    build.add_argument("--no-silver", dest="silver", action="store_const", const=None, help="leave silver data out")
    build.add_argument("--output", type=Path, default=REPO_ROOT / "annotation" / "dataset", help="dataset folder")
    build.set_defaults(func=_lazy("training.dataset"))


def main_for(command: str, argv: list[str] | None = None) -> int:
    """`python -m training.<module>`: the same arguments as `gazette-ner <command>`."""
    parser = argparse.ArgumentParser(prog="gazette-ner")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([*command.split(), *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args) or 0)

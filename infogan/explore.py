"""A latent explorer in the browser: ``python -m infogan.explore CKPT [--host 127.0.0.1] [--port 7860]``.

A local gradio page with one control per code of the checkpoint: a dropdown per categorical code (its K values, or
"random"), a slider per continuous code over the range the GIFs use (the model's ``traversal_range``),
a noise seed with a "new noise" button and the number of samples. The grid updates as a control moves, with the noise
held fixed, so one change shows one code's effect. A traversal view makes the traversal sheet and its GIF with the
same rendering code as ``generate`` and the training callback (:mod:`infogan.render`).

Private by default: bound to 127.0.0.1, no share link, gradio's analytics off. Needs the optional extra:
``pip install -e ".[explore]"``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import sys
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from infogan import cli
from infogan.errors import InputError
from infogan.files import write_atomically

if TYPE_CHECKING:
    import numpy as np
    import torch

# torch, Lightning and gradio are imported where a picture is made or the page is served, not here, so --help and a
# bad flag answer at once (as in infogan.train)

RANDOM = "random"  # the categorical dropdown's choice for "drawn with the noise"
MAX_SAMPLES = 64


class Explorer:
    """What the page computes, without gradio: pictures of one model for given control values.

    Args:
        model: a trained :class:`infogan.InfoGAN` (eval mode), e.g. from :func:`infogan.checkpoint.load_model`.
        display_side: grids are enlarged (nearest neighbour, whole factors) to about this many pixels, so 28 px
            digits are visible in a browser; the model's pixels are not changed.
    """

    def __init__(self, model, display_side: int = 512) -> None:
        self.model, self.spec, self.display_side = model, model.latent, display_side

    def grid(self, categorical: Sequence, continuous: Sequence[float], seed: int, n: int = 16) -> np.ndarray:
        """An n-sample grid (H, W) or (H, W, 3) uint8: categorical values (int, or "random"/None: drawn), continuous
        values, and noise (and drawn codes) fixed by ``seed``, so only the changed control changes the picture."""
        from infogan import render

        if not 1 <= int(n) <= MAX_SAMPLES:
            raise InputError(f"the number of samples must be 1..{MAX_SAMPLES}, got {n}")
        cats = [None if c in (None, RANDOM, "") else int(c) for c in categorical]
        images = self.model.sample(int(n), cats or None, [float(v) for v in continuous] or None, seed=check_seed(seed))
        return self._display(render.to_grid(images, nrow=max(1, round(int(n) ** 0.5))))

    def traversal(self, code: str, seed: int, n: int = 8, frames: int = 9) -> tuple[np.ndarray, bytes]:
        """The traversal of ``code`` ("cat:I" / "cont:I"): the sheet (rows: noise, columns: values) as a uint8 array,
        and the GIF's bytes."""
        from infogan import render

        kind, index = self.spec.parse_code(code)
        _, images = render.traversal_images(self.model, kind, index, int(n), frames, seed=check_seed(seed))
        sheet = render.traversal_sheet(images)
        gif = render.gif_bytes(render.traversal_gif_frames(images, kind, max(1, round(int(n) ** 0.5))))
        return self._display(sheet), gif

    def _display(self, frame: torch.Tensor) -> np.ndarray:
        factor = max(1, self.display_side // max(frame.shape[1:]))
        big = frame.repeat_interleave(factor, 1).repeat_interleave(factor, 2)
        array = (big.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
        return array[..., 0] if array.shape[2] == 1 else array

    def code_names(self) -> list[str]:
        spec = self.spec
        return [f"cat:{i}" for i in range(spec.num_categorical)] + [f"cont:{i}" for i in range(spec.continuous)]


class GifFolder:
    """Where the page's traversal GIFs are written: one temporary folder per page, one file per code, each rewritten
    in place (atomically) when the code is traversed again, and the folder deleted when the page goes away.

    Why: one folder per request (``mkdtemp`` each time) left a folder in ``/tmp`` for every click, never cleaned.
    """

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="infogan_explore_"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)

    def write(self, code: str, data: bytes) -> Path:
        return write_atomically(self.path / f"{code.replace(':', '')}.gif", data)

    def cleanup(self) -> None:
        self._cleanup()


@contextlib.contextmanager
def _shown_to_the_user(gr):
    """A bad control value (an InputError) becomes gradio's error message on the page, not its generic "Error"."""
    try:
        yield
    except InputError as err:
        raise gr.Error(str(err)) from None


def check_seed(seed) -> int:
    """The noise seed as an int torch accepts; InputError otherwise (a page can send any number)."""
    try:
        value = int(seed)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"the noise seed must be a whole number, got {seed!r}") from None
    if not 0 <= value < 2**63:
        raise InputError(f"the noise seed must be from 0 to 2^63 - 1, got {value}")
    return value


def build_app(explorer: Explorer, title: str = "InfoGAN latent explorer"):
    """The gradio Blocks of ``explorer``: controls, the live grid (api name ``/grid``) and the traversal view
    (``/traversal``)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    spec, r = explorer.spec, explorer.spec.default_range
    gifs = GifFolder()
    # gradio copies every file it serves into its own cache: files older than an hour go, checked every 10 minutes
    with gr.Blocks(title=title, analytics_enabled=False, delete_cache=(600, 3600)) as app:
        gr.Markdown(f"# {title}\nOne control per code; the noise stays fixed until you ask for new noise.")
        with gr.Row():
            with gr.Column(scale=1):
                cats = [gr.Dropdown([RANDOM] + [str(v) for v in range(k)], value="0" if i == 0 else RANDOM,
                                    label=f"categorical code {i} (cat:{i}, K={k})", elem_id=f"cat{i}")
                        for i, k in enumerate(spec.categorical)]
                conts = [gr.Slider(-r, r, value=0.0, step=0.05, label=f"continuous code {i} (cont:{i})",
                                   elem_id=f"cont{i}") for i in range(spec.continuous)]
                seed = gr.Number(value=0, precision=0, label="noise seed", elem_id="seed")
                new_noise = gr.Button("new noise", elem_id="new_noise")
                n = gr.Slider(1, MAX_SAMPLES, value=16, step=1, label="samples", elem_id="samples")
            with gr.Column(scale=2):
                grid = gr.Image(label="samples", type="numpy", format="png", elem_id="grid", interactive=False)
        with gr.Row():
            code = gr.Dropdown(explorer.code_names(), value=explorer.code_names()[0] if explorer.code_names() else None,
                               label="traverse code", elem_id="code")
            make = gr.Button("make traversal", elem_id="make")
        with gr.Row():
            sheet = gr.Image(label="traversal sheet (rows: noise, columns: values)", type="numpy", format="png",
                             interactive=False)
            gif = gr.File(label="traversal GIF")

        def update(*values):
            k = len(cats)
            with _shown_to_the_user(gr):
                return explorer.grid(values[:k], values[k:k + len(conts)], values[-2], values[-1])

        def traverse(code_name, seed_value):
            with _shown_to_the_user(gr):
                picture, data = explorer.traversal(code_name, seed_value)
                return picture, str(gifs.write(code_name, data))

        controls = [*cats, *conts, seed, n]
        for control in controls:
            control.change(update, controls, grid, api_name=False, show_progress="hidden")
        new_noise.click(lambda s: int(s) + 1, seed, seed, api_name=False)
        app.load(update, controls, grid, api_name="grid")
        make.click(traverse, [code, seed], [sheet, gif], api_name="traversal")
    app.gif_folder = gifs  # lives (and is deleted) with the page
    return app


def _check_port(host: str, port: int) -> None:
    """A one-line error for a port in use, before gradio tries (and prints a traceback)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as err:
            raise InputError(f"cannot listen on {host}:{port} ({err.strerror or err}); pass another --port") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m infogan.explore", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("checkpoint", help="a .ckpt written by training")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; 127.0.0.1 keeps the page on this machine (0.0.0.0 opens it to "
                        "the network)")
    p.add_argument("--port", type=int, default=7860, help="port of the page")
    p.add_argument("--device", default="cpu", help="torch device to generate on (cpu, cuda)")
    cli.add_debug_flag(p)
    return p


def serve(args: argparse.Namespace, block: bool = True):
    """Load the checkpoint (refusing bad files before any server starts), then launch the page."""
    from infogan.checkpoint import load_model

    model = load_model(args.checkpoint, args.device)
    _check_port(args.host, args.port)
    try:
        app = build_app(Explorer(model), title=f"InfoGAN latent explorer: {Path(args.checkpoint).name}")
    except ModuleNotFoundError as err:
        raise InputError(f"the explorer needs gradio: pip install -e \".[explore]\" ({err})") from None
    print(f"explorer: http://{args.host}:{args.port}  (Ctrl-C stops it)", file=sys.stderr)
    app.launch(server_name=args.host, server_port=args.port, share=False, inbrowser=False, quiet=True,
               prevent_thread_lock=not block)
    return app


def main(argv: Optional[Sequence[str]] = None, block: bool = True):
    parser = build_parser()
    args = parser.parse_args(argv)
    return cli.run(parser, args, lambda a: serve(a, block))


if __name__ == "__main__":
    main()

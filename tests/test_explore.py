"""The latent explorer: its update function, a live server over HTTP (gradio_client), and a real headless browser."""

import shutil
import socket

import numpy as np
import pytest
import torch
from PIL import Image

from infogan import InfoGAN
from infogan.explore import Explorer, build_app, main
from tests.helpers import fails

gradio = pytest.importorskip("gradio", reason="the explorer's optional extra: pip install -e '.[explore]'")


@pytest.fixture(scope="module")
def explorer() -> Explorer:
    torch.manual_seed(0)
    return Explorer(InfoGAN(categorical=[10, 3]).eval(), display_side=512)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_same_controls_same_image_one_code_changed_another(explorer):
    a = explorer.grid(["3", "random"], [0.0, 0.0], seed=5, n=16)
    assert a.dtype == np.uint8 and a.shape == (4 * 122, 4 * 122)  # 4 x 4 grid of 30 px cells, enlarged 4 x to ~512
    assert np.array_equal(a, explorer.grid(["3", "random"], [0.0, 0.0], seed=5, n=16))
    assert not np.array_equal(a, explorer.grid(["3", "random"], [1.5, 0.0], seed=5, n=16))  # cont:0 moved
    assert not np.array_equal(a, explorer.grid(["4", "random"], [0.0, 0.0], seed=5, n=16))  # cat:0 changed
    assert not np.array_equal(a, explorer.grid(["3", "random"], [0.0, 0.0], seed=6, n=16))  # new noise
    with pytest.raises(ValueError, match="categorical code 0 takes values 0..9, got 10"):
        explorer.grid(["10", "random"], [0.0, 0.0], seed=5)
    with pytest.raises(ValueError, match="categorical code 1 takes values 0..2"):
        explorer.grid(["1", "3"], [0.0, 0.0], seed=5)
    with pytest.raises(ValueError, match="number of samples"):
        explorer.grid(["1", "random"], [0.0, 0.0], seed=5, n=0)


def test_the_traversal_view_uses_the_generate_rendering(explorer):
    from infogan import render

    sheet, gif = explorer.traversal("cont:1", seed=2, n=4, frames=5)
    _, images = render.traversal_images(explorer.model, "cont", 1, 4, 5, seed=2)
    expected = render.traversal_sheet(images)  # what `generate --traverse cont:1 --out x.png` writes
    factor = explorer.display_side // max(expected.shape[1:])
    assert sheet.shape[:2] == tuple(side * factor for side in expected.shape[1:]) == (4 * 30 * 3 + 6, 5 * 30 * 3 + 6)
    assert gif[:6] == b"GIF89a"
    with pytest.raises(ValueError, match="code cont:2 does not exist"):
        explorer.traversal("cont:2", seed=2)


@pytest.mark.slow
def test_a_live_server_answers_over_http_with_images_that_change_with_a_code(explorer):
    from gradio_client import Client

    port = _free_port()
    app = build_app(explorer)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, share=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        first = np.asarray(Image.open(client.predict("3", "random", 0.0, 0.0, 0, 9, api_name="/grid")))
        again = np.asarray(Image.open(client.predict("3", "random", 0.0, 0.0, 0, 9, api_name="/grid")))
        moved = np.asarray(Image.open(client.predict("3", "random", 0.0, 1.8, 0, 9, api_name="/grid")))
        assert first.shape[:2] == (5 * (3 * 30 + 2),) * 2  # 3 x 3 grid of 30 px cells, enlarged 5 x
        assert np.array_equal(first, again) and not np.array_equal(first, moved)
        sheet, gif = client.predict("cat:1", 0, api_name="/traversal")
        assert Image.open(gif).n_frames == 3  # K = 3 values of cat:1
    finally:
        app.close()


def test_bad_checkpoints_and_a_taken_port_are_refused_before_any_server_starts(ckpt, tmp_path, capsys):
    line = fails(main, [str(tmp_path / "missing.ckpt")], capsys)
    assert "not found" in line
    torch.save(torch.zeros(3), tmp_path / "tensor.ckpt")
    assert "not an InfoGAN training checkpoint" in fails(main, [str(tmp_path / "tensor.ckpt")], capsys)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = fails(main, [str(ckpt), "--port", str(port)], capsys)
    assert f"cannot listen on 127.0.0.1:{port}" in line and "--port" in line


CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.mark.slow
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="headless browser test: apt-get install chromium "
                    "chromium-driver (.ci/run installs them)")
def test_a_real_browser_moves_a_slider_and_sees_the_digits_change(explorer, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    port = _free_port()
    app = build_app(explorer)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, share=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        browser.get(f"http://127.0.0.1:{port}/")

        def shown():
            return [img.get_attribute("src") for img in browser.find_elements(By.CSS_SELECTOR, "#grid img")]

        WebDriverWait(browser, 60).until(lambda _: shown() and shown()[0])
        before = shown()[0]
        slider = browser.find_element(By.CSS_SELECTOR, "#cont0 input[type=range]")
        browser.execute_script("arguments[0].value = 1.5; for (const kind of ['input', 'change']) "
                               "arguments[0].dispatchEvent(new Event(kind, {bubbles: true}));", slider)
        WebDriverWait(browser, 60).until(lambda _: shown() and shown()[0] != before)
        browser.save_screenshot(str(tmp_path / "explorer.png"))
        assert Image.open(tmp_path / "explorer.png").size[0] >= 1000
    finally:
        browser.quit()
        app.close()


@pytest.mark.parametrize("kwargs, shape", [
    (dict(preset="celeba32", channels=3, categorical=[10] * 10, continuous=0, noise_dim=128), (4 * 34 + 2,) * 2 + (3,)),
    (dict(preset="dcgan64", channels=1, categorical=[], continuous=5, noise_dim=5), (4 * 66 + 2,) * 2),
], ids=["celeba32", "dsprites"])
def test_every_kind_of_checkpoint_gets_its_controls_and_pictures(kwargs, shape):
    explorer = Explorer(InfoGAN(**kwargs).eval(), display_side=100)  # no enlargement at this size
    spec = explorer.spec
    picture = explorer.grid([1] * spec.num_categorical, [0.5] * spec.continuous, seed=0, n=16)
    assert picture.shape == shape and picture.dtype == np.uint8
    assert explorer.code_names() == [f"cat:{i}" for i in range(spec.num_categorical)] + [
        f"cont:{i}" for i in range(spec.continuous)]
    app = build_app(explorer)  # one control per code, no server needed to build the page
    labels = [c.get("props", {}).get("label") or "" for c in app.config["components"]]
    assert sum(label.startswith("categorical code") for label in labels) == spec.num_categorical
    assert sum(label.startswith("continuous code") for label in labels) == spec.continuous
    assert app.config["analytics_enabled"] is False


def test_traversal_gifs_reuse_one_folder_per_page_and_it_is_deleted_with_the_page():
    from infogan.explore import GifFolder

    gifs = GifFolder()
    first = gifs.write("cat:0", b"GIF89a one")
    again = gifs.write("cat:0", b"GIF89a two")  # the same code again: the same file, rewritten
    other = gifs.write("cont:1", b"GIF89a three")
    assert first == again and first.read_bytes() == b"GIF89a two" and other.parent == first.parent
    assert sorted(p.name for p in gifs.path.iterdir()) == ["cat0.gif", "cont1.gif"]  # no temporary files left
    folder = gifs.path
    del gifs  # the page goes away: its folder goes with it
    import gc

    gc.collect()
    assert not folder.exists()

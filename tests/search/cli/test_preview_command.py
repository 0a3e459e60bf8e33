import numpy as np
from PIL import Image

from results.samples import grid_shape
from search.cli import main


def test_preview_writes_a_png_of_the_expected_size(small_study, tmp_path, capsys):
    out = tmp_path / "grid.png"
    # The study's budget says 32 px: 16 pictures are two bands of 8, each picture 96 px.
    assert main(["preview", "best", "--runs-dir", str(tmp_path / "runs"), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    picture = np.asarray(Image.open(out))
    assert picture.shape == (594, 882, 3) == (*grid_shape(16, 32), 3)


def test_preview_is_seeded(small_study, tmp_path):
    paths = [tmp_path / f"{name}.png" for name in ("a", "b", "c")]
    for path, seed in zip(paths, (4, 4, 5), strict=True):
        assert (
            main(
                [
                    "preview",
                    "1",
                    "--runs-dir",
                    str(tmp_path / "runs"),
                    "--images",
                    "2",
                    "--seed",
                    str(seed),
                    "--out",
                    str(path),
                ]
            )
            == 0
        )
    a, b, c = (np.asarray(Image.open(path)) for path in paths)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_preview_with_bad_images_count_writes_nothing(small_study, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["preview", "--runs-dir", str(tmp_path / "runs"), "--images", "0", "--out", str(out)]) == 2
    assert "--images" in capsys.readouterr().err and not out.exists()

import json
import math

import pytest

from results.evaluation import (
    cells,
    correlation_line,
    markdown,
    summarise,
    table_lines,
    to_dict,
)
from results.evaluation_chart import bar_chart_png, chart_figure, chart_rows
from space import BASELINES, GUIDE_POLICY, NO_AUGMENTATION, Policy
from space.policy_ref import PolicyRef

SEEDS = [0, 1, 2]
T975_2 = 4.303  # Student's t(0.975) with 2 degrees of freedom


#: The trials' objectives in the search.
PROXY = {"trial 7": 0.90, "trial 3": 0.80}


def ref(label, origin, policy):
    return PolicyRef(label, policy, origin)


def summarise_in_order(refs, accuracies, seeds):
    """`summarise` with each policy's test accuracies given in the order of `refs`."""
    return summarise(refs, {r.label: a for r, a in zip(refs, accuracies, strict=True)}, seeds, PROXY)


def entries():
    return [
        ref("trial 7", "trial", Policy(magnitude=0.4)),
        ref("trial 3", "trial", Policy(magnitude=0.6)),
        ref("none", "baseline", NO_AUGMENTATION),
        ref("guide", "baseline", GUIDE_POLICY),
    ]


ACCURACIES = [
    {0: 0.83, 1: 0.86, 2: 0.86},  # trial 7
    {0: 0.81, 1: 0.80, 2: 0.82},  # trial 3
    {0: 0.80, 1: 0.82, 2: 0.84},  # none: the best baseline (mean 0.82)
    {0: 0.70, 1: 0.72, 2: 0.74},  # guide
]


def test_known_numbers_give_the_right_mean_interval_and_paired_difference():
    evaluation = summarise_in_order(entries(), ACCURACIES, SEEDS)
    none = evaluation.row("none").accuracy
    # mean 0.82, sample stddev 0.02: half width t * 0.02 / sqrt(3)
    assert none.mean == pytest.approx(0.82)
    assert none.half_width == pytest.approx(T975_2 * 0.02 / math.sqrt(3), rel=1e-9)
    assert (none.low, none.high) == pytest.approx((0.82 - 0.0496868, 0.82 + 0.0496868), abs=1e-6)
    assert evaluation.best_baseline == "none"
    # trial 7 - none, paired by seed: 0.03, 0.04, 0.02 -> mean 0.03, stddev 0.01
    difference = evaluation.row("trial 7").difference
    assert difference.mean == pytest.approx(0.03)
    assert difference.half_width == pytest.approx(T975_2 * 0.01 / math.sqrt(3), rel=1e-9)
    assert difference.low > 0  # the gain is significant paired, though the two intervals overlap
    assert evaluation.row("trial 7").accuracy.low < none.high
    assert evaluation.row("none").difference is None  # the best baseline is the reference
    assert evaluation.row("guide").difference.mean == pytest.approx(-0.10)


def test_the_proxy_fidelity_is_the_spearman_correlation_over_the_trials():
    evaluation = summarise_in_order(entries(), ACCURACIES, SEEDS)
    # Proxy order 7 > 3, test order 7 > 3: perfect agreement over 2 trials.
    assert (evaluation.proxy_correlation, evaluation.correlated_trials) == (1.0, 2)
    swapped = [ACCURACIES[1], ACCURACIES[0], *ACCURACIES[2:]]
    assert summarise_in_order(entries(), swapped, SEEDS).proxy_correlation == -1.0
    assert "+1.00" in correlation_line(evaluation) and "2 trials" in correlation_line(evaluation)
    without_trials = summarise_in_order(entries()[2:], ACCURACIES[2:], SEEDS)
    assert without_trials.proxy_correlation is None
    assert "--top-k" in correlation_line(without_trials)


def test_missing_seeds_pair_over_the_seeds_both_have_and_nothing_finished_is_shown_as_such():
    accuracies = [{0: 0.83, 2: 0.86}, {}, *ACCURACIES[2:]]
    evaluation = summarise_in_order(entries(), accuracies, SEEDS)
    difference = evaluation.row("trial 7").difference
    assert difference.n == 2 and difference.mean == pytest.approx(((0.83 - 0.80) + (0.86 - 0.84)) / 2)
    empty = evaluation.row("trial 3")
    assert empty.accuracy is None and empty.difference is None
    assert cells(evaluation)[1][3:] == ("-", "-", "0/3")
    assert evaluation.correlated_trials == 1 and evaluation.proxy_correlation is None


def test_without_baselines_there_is_no_difference():
    evaluation = summarise_in_order(entries()[:2], ACCURACIES[:2], SEEDS)
    assert evaluation.best_baseline is None
    assert all(row.difference is None for row in evaluation.rows)


def test_a_single_seed_is_reported_without_an_interval():
    evaluation = summarise_in_order(entries()[:1], [{0: 0.8}], [0])
    assert cells(evaluation)[0][3] == "0.8000 (1 seed)"


def test_table_markdown_and_json_carry_the_same_figures():
    evaluation = summarise_in_order(entries(), ACCURACIES, SEEDS)
    lines = table_lines(evaluation)
    assert lines[0].split()[:2] == ["policy", "kind"]
    trial_line = next(line for line in lines if line.startswith("trial 7"))
    assert "0.8500 [" in trial_line and "+0.0300 [" in trial_line and "3/3" in trial_line
    assert "(best baseline)" in next(line for line in lines if line.startswith("none"))

    context = {
        "study": "fashion_mnist",
        "dataset": "fashion_mnist",
        "budget": {"epochs": 20, "train_examples": 6144, "image_size": 32, "model": "small"},
        "command": "search evaluate --top-k 2",
    }
    text = markdown(evaluation, context)
    assert "| trial 7 | trial | 0.9000 | 0.8500 [" in text
    assert "20 epochs x 6144 training images" in text and "Reproduce: `search evaluate --top-k 2`" in text

    data = json.loads(json.dumps(to_dict(evaluation, context)))
    row = data["rows"][0]
    assert row["test_accuracy_by_seed"] == {"0": 0.83, "1": 0.86, "2": 0.86}
    assert row["test_accuracy"]["mean"] == pytest.approx(0.85)
    assert row["difference_to_best_baseline"]["mean"] == pytest.approx(0.03)
    assert Policy.from_dict(row["policy"]) == Policy(magnitude=0.4)
    assert data["best_baseline"] == "none" and data["proxy_correlation"] == {"spearman": 1.0, "trials": 2}


def test_an_undefined_correlation_is_null_in_json():
    tied = [{0: 0.8}, {0: 0.8}]  # both trials score the same: Spearman is undefined
    evaluation = summarise_in_order(entries()[:2], tied, [0])
    assert math.isnan(evaluation.proxy_correlation)
    assert to_dict(evaluation, {})["proxy_correlation"]["spearman"] is None
    assert "undefined" in correlation_line(evaluation)


def chart_evaluation():
    """trivialaugment is the best baseline; accuracies are exact points apart where it helps."""
    chart_entries = [
        ref("none", "baseline", BASELINES["none"]),
        ref("one seed", "trial", Policy(magnitude=0.2)),
        ref("plus one", "trial", Policy(magnitude=0.4)),
        ref("trivialaugment", "baseline", BASELINES["trivialaugment"]),
        ref("noisy", "file", Policy(magnitude=0.6)),
        ref("nothing", "trial", Policy(magnitude=0.8)),
    ]
    accuracies = [
        {0: 0.70, 1: 0.72, 2: 0.74},  # none: 10 points under on every seed
        {1: 0.95},  # a single shared seed: no interval
        {0: 0.81, 1: 0.83, 2: 0.85},  # plus one: 1 point over on every seed
        {0: 0.80, 1: 0.82, 2: 0.84},  # trivialaugment, mean 0.82
        {0: 0.83, 1: 0.86, 2: 0.86},  # noisy: 3, 4, 2 points over
        {},  # nothing finished
    ]
    return summarise_in_order(chart_entries, accuracies, SEEDS)


def test_the_chart_rows_are_the_paired_differences_in_points_best_first():
    evaluation = chart_evaluation()
    rows = chart_rows(evaluation)
    # Every row is there: gains first, the reference at 0, losses, then rows without a difference.
    assert [row.label for row in rows] == ["noisy", "plus one", "trivialaugment", "none", "one seed", "nothing"]
    by_label = {row.label: row for row in rows}
    assert by_label["plus one"].difference == pytest.approx((1.0, 1.0, 1.0), abs=1e-9)
    assert by_label["none"].difference == pytest.approx((-10.0, -10.0, -10.0), abs=1e-9)
    # noisy: paired 3, 4, 2 points -> 3 +- t * 1 / sqrt(3), whereas its accuracy interval overlaps the baseline's
    half = T975_2 / math.sqrt(3)
    assert by_label["noisy"].difference == pytest.approx((3.0, 3.0 - half, 3.0 + half), rel=1e-9)
    assert evaluation.row("noisy").accuracy.low < evaluation.row("trivialaugment").accuracy.high
    assert (by_label["trivialaugment"].difference, by_label["trivialaugment"].note) == (None, "reference")
    assert (by_label["one seed"].difference, by_label["one seed"].note) == (None, "n/a")
    assert (by_label["nothing"].difference, by_label["nothing"].note) == (None, "n/a")
    assert by_label["plus one"].accuracy == pytest.approx(83.0)
    assert by_label["nothing"].accuracy is None


def test_the_chart_draws_the_chart_rows():
    figure = chart_figure(chart_evaluation())
    axes = figure.axes[0]
    widths = [bar.get_width() for bar in axes.patches]  # one bar per row with a difference, top first
    assert widths == pytest.approx([3.0, 1.0, -10.0], abs=1e-9)
    heights = {label.get_text(): tick for label, tick in zip(axes.get_yticklabels(), axes.get_yticks(), strict=True)}
    assert sorted(heights, key=heights.get, reverse=True) == [row.label for row in chart_rows(chart_evaluation())]
    assert {text.get_text() for text in axes.texts} == {"reference", "n/a"}
    assert "paired difference to trivialaugment" in axes.get_xlabel() and "3 seeds" in axes.get_xlabel()
    assert any(line.get_xdata()[0] == 0 for line in axes.lines)  # the zero line


def test_the_charts_axis_label_stays_inside_the_figure_beside_long_policy_labels():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    entries = [
        ref("trivialaugment", "baseline", BASELINES["trivialaugment"]),
        ref("a_policy_file_with_a_long_name.json", "file", Policy(magnitude=0.6)),
    ]
    evaluation = summarise_in_order(entries, [{0: 0.80, 1: 0.82, 2: 0.84}, {0: 0.81, 1: 0.82, 2: 0.86}], SEEDS)
    figure = chart_figure(evaluation)
    renderer = FigureCanvasAgg(figure).get_renderer()
    label = figure.axes[0].xaxis.label.get_window_extent(renderer)
    assert label.x0 >= 0 and label.x1 <= figure.bbox.width, "the x label runs off the figure"


def test_the_reference_tag_stays_inside_the_axes_when_every_difference_is_a_loss():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    entries = [
        ref("trivialaugment", "baseline", BASELINES["trivialaugment"]),
        ref("worse", "trial", Policy(magnitude=0.6)),
    ]
    worse = {0: 0.78, 1: 0.79, 2: 0.815}  # 2, 3 and 2.5 points under: the whole interval below 0
    evaluation = summarise_in_order(entries, [{0: 0.80, 1: 0.82, 2: 0.84}, worse], SEEDS)
    figure = chart_figure(evaluation)
    renderer = FigureCanvasAgg(figure).get_renderer()
    axes = figure.axes[0]
    (tag,) = axes.texts
    assert tag.get_text() == "reference"
    assert tag.get_window_extent(renderer).x1 <= axes.get_window_extent(renderer).x1, "the tag leaves the axes"


def test_the_chart_is_a_png_with_a_row_per_policy():
    import io

    from PIL import Image

    png = bar_chart_png(chart_evaluation())
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == 700
    fewer = Image.open(io.BytesIO(bar_chart_png(summarise_in_order(entries()[2:], ACCURACIES[2:], SEEDS))))
    assert fewer.height < image.height
    nothing = bar_chart_png(summarise_in_order(entries()[:1], [{}], SEEDS))  # no baseline to pair with
    assert Image.open(io.BytesIO(nothing)).format == "PNG"

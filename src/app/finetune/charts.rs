//! Small SVG line charts for the live training curves.

use leptos::prelude::*;

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 150.0;
const PAD: f64 = 6.0;

/// One line: a legend label, a CSS class for its colour, and its values in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: &'static str,
    pub class: &'static str,
    pub values: Vec<f64>,
}

/// Lines sharing one y-axis, scaled to their common range; non-finite values are skipped.
#[component]
pub fn LineChart(title: &'static str, #[prop(into)] series: Signal<Vec<Series>>) -> impl IntoView {
    let range = move || {
        series.with(|all| {
            let finite = all.iter().flat_map(|s| s.values.iter().copied()).filter(|v| v.is_finite());
            let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            if lo.is_finite() {
                (lo, if hi > lo { hi } else { lo + 1.0 })
            } else {
                (0.0, 1.0)
            }
        })
    };
    let lines = move || {
        let (lo, hi) = range();
        series
            .get()
            .into_iter()
            .map(|s| {
                let last = s.values.len().saturating_sub(1).max(1) as f64;
                let points = s
                    .values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_finite())
                    .map(|(i, v)| {
                        let x = PAD + i as f64 / last * (WIDTH - 2.0 * PAD);
                        let y = PAD + (hi - v) / (hi - lo) * (HEIGHT - 2.0 * PAD);
                        format!("{x:.1},{y:.1}")
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                view! { <polyline class=format!("line {}", s.class) points=points /> }
            })
            .collect_view()
    };
    view! {
        <figure class="chart" data-testid="finetune-chart">
            <figcaption>
                {title} " "
                <span class="axis">{move || { let (lo, hi) = range(); format!("({lo:.3} – {hi:.3})") }}</span>
                {move || {
                    series
                        .get()
                        .into_iter()
                        .map(|s| view! { <span class=format!("legend {}", s.class)>{s.label}</span> })
                        .collect_view()
                }}
            </figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=title>
                <rect class="frame" x="0" y="0" width=WIDTH height=HEIGHT />
                {lines}
            </svg>
        </figure>
    }
}

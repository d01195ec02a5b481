//! Figures as PNG or SVG (chosen by the file extension), written atomically.
//!
//! Text needs a TrueType font: the first of `$DEQK_FONT` and the usual system locations (DejaVu, Liberation,
//! FreeFont, Noto, macOS Arial) that exists is used. Without one the figure is drawn without any text and
//! [`FigureReport::text`] says so.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::output::write_atomic;
use crate::{Error, Result};

/// Width and height in pixels.
pub const SIZE: (u32, u32) = (900, 560);

const FONT_PATHS: [&str; 8] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
];

/// Register a system font once; whether one was found.
fn font_available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        let from_env = std::env::var("DEQK_FONT").ok();
        let candidates = from_env.iter().map(String::as_str).chain(FONT_PATHS);
        for path in candidates {
            if let Ok(bytes) = std::fs::read(path) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

/// What was written.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct FigureReport {
    /// The file written.
    pub path: String,
    /// Whether labels and legends were drawn (a font was found).
    pub text: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Png,
    Svg,
}

fn format_of(path: &Path) -> Result<Format> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => Err(Error::UnknownName {
            what: "figure format (the extension of the file name)",
            name: path.display().to_string(),
            known: "*.png, *.svg".into(),
        }),
    }
}

fn draw_error(e: impl std::fmt::Display) -> Error {
    Error::Figure {
        detail: e.to_string(),
    }
}

/// The colours of successive series.
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// One spectrum of an overlay: eigenvalues, or the nodes of a quadrature with their weights.
pub struct SpectrumSeries<'a> {
    /// The legend's label.
    pub label: &'a str,
    /// Eigenvalues or quadrature nodes.
    pub values: &'a [f64],
    /// Weights of the values (None: equal).
    pub weights: Option<&'a [f64]>,
}

/// Overlaid density histograms of several spectra (the paper's figure style: step outlines over the bulk),
/// with the eigenvalues that stand apart from the bulk ([`crate::eigen::spectrum::outliers`]) marked by
/// triangles on the axis; outliers beyond the drawn range are listed in the caption.
pub fn spectra(
    path: &Path,
    title: &str,
    series: &[SpectrumSeries],
    bins: usize,
    force: bool,
) -> Result<FigureReport> {
    use crate::eigen::spectrum::{histogram_weighted, outliers};
    if series.is_empty() {
        return Err(Error::Missing {
            name: "spectra",
            why: "give at least one spectrum to plot",
        });
    }
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .collect();
    // Quadrature nodes are not eigenvalues: only true spectra get outlier marks.
    let marked: Vec<Vec<f64>> = series
        .iter()
        .map(|s| match s.weights {
            None => outliers(s.values, 3.0, 20),
            Some(_) => Vec::new(),
        })
        .collect();
    let bulk: Vec<f64> = series
        .iter()
        .zip(&marked)
        .flat_map(|(s, o)| s.values.iter().copied().filter(move |v| !o.contains(v)))
        .collect();
    let range_of = |v: &[f64]| {
        v.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                (l.min(x), h.max(x))
            })
    };
    let (blo, bhi) = range_of(if bulk.is_empty() { &all } else { &bulk });
    let (alo, ahi) = range_of(&all);
    // Keep the outliers in view unless they would squeeze the bulk into a corner.
    let width = (bhi - blo).max(1e-12 * bhi.abs().max(1.0));
    let (lo, hi) = if (ahi - alo) <= 4.0 * width {
        (alo, ahi)
    } else {
        (blo, bhi)
    };
    let pad = 0.03 * (hi - lo).max(1e-12);
    let (lo, hi) = (lo - pad, hi + pad);
    let hists: Vec<_> = series
        .iter()
        .map(|s| histogram_weighted(s.values, s.weights, bins, Some((lo, hi))))
        .collect::<std::result::Result<_, _>>()?;
    let ymax = hists
        .iter()
        .flat_map(|h| h.density.iter().copied())
        .fold(0.0, f64::max)
        * 1.08;
    let hidden: Vec<f64> = marked
        .iter()
        .flatten()
        .copied()
        .filter(|&v| v < lo || v > hi)
        .collect();
    let caption = title.to_string();
    let note = (!hidden.is_empty()).then(|| {
        let mut v = hidden.clone();
        v.sort_by(f64::total_cmp);
        v.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * b.abs().max(1.0));
        let list: Vec<String> = v.iter().take(6).map(|x| format!("{x:.4}")).collect();
        let more = if v.len() > 6 { ", …" } else { "" };
        format!("outliers off the axis: {}{more}", list.join(", "))
    });
    let fig = SpectraFigure {
        caption,
        note,
        lo,
        hi,
        ymax,
        series,
        hists: &hists,
        marked: &marked,
        text: font_available(),
    };
    write_figure(path, force, &fig)
}

/// Everything a spectra figure shows.
struct SpectraFigure<'a> {
    caption: String,
    /// A line of text inside the plot area (outliers beyond the axis).
    note: Option<String>,
    lo: f64,
    hi: f64,
    ymax: f64,
    series: &'a [SpectrumSeries<'a>],
    hists: &'a [crate::eigen::spectrum::Histogram],
    marked: &'a [Vec<f64>],
    text: bool,
}

impl Figure for SpectraFigure<'_> {
    fn text(&self) -> bool {
        self.text
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(draw_error)?;
        let mut builder = ChartBuilder::on(&root);
        builder.margin(14);
        if self.text {
            builder
                .caption(&self.caption, ("sans-serif", 20))
                .x_label_area_size(40)
                .y_label_area_size(60);
        }
        let mut chart = builder
            .build_cartesian_2d(self.lo..self.hi, 0.0..self.ymax.max(1e-300))
            .map_err(draw_error)?;
        let mut mesh = chart.configure_mesh();
        mesh.disable_mesh();
        if self.text {
            mesh.x_desc("eigenvalue").y_desc("density");
        } else {
            mesh.x_labels(0).y_labels(0);
        }
        mesh.draw().map_err(draw_error)?;
        for (k, (s, h)) in self.series.iter().zip(self.hists).enumerate() {
            let color = COLORS[k % COLORS.len()];
            let mut pts = vec![(h.edges[0], 0.0)];
            for (b, &d) in h.density.iter().enumerate() {
                pts.push((h.edges[b], d));
                pts.push((h.edges[b + 1], d));
            }
            pts.push((h.edges[h.edges.len() - 1], 0.0));
            // The first spectrum (the reference) wide and solid, the others alternately solid and dashed, so
            // that curves lying on top of each other stay visible.
            let style = color.stroke_width(if k == 0 { 4 } else { 2 });
            let drawn = if k % 2 == 0 {
                chart
                    .draw_series(LineSeries::new(pts, style))
                    .map_err(draw_error)?
            } else {
                chart
                    .draw_series(DashedLineSeries::new(pts, 7, 4, style))
                    .map_err(draw_error)?
            };
            if self.text {
                drawn.label(s.label).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
            let inside: Vec<f64> = self.marked[k]
                .iter()
                .copied()
                .filter(|&v| v >= self.lo && v <= self.hi)
                .collect();
            chart
                .draw_series(inside.into_iter().map(|v| {
                    TriangleMarker::new((v, 0.04 * self.ymax * (1.0 + k as f64)), 7, color.filled())
                }))
                .map_err(draw_error)?;
        }
        if self.text {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(draw_error)?;
            if let Some(note) = &self.note {
                root.draw(&Text::new(note.clone(), (90, 50), ("sans-serif", 14)))
                    .map_err(draw_error)?;
            }
        }
        root.present().map_err(draw_error)?;
        Ok(())
    }
}

/// A figure that draws itself on any plotters backend.
trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
    /// Whether labels are drawn (a usable font was found).
    fn text(&self) -> bool;
}

/// Render `fig` in memory in the format the extension of `path` names (SVG or PNG), then write atomically.
fn write_figure(path: &Path, force: bool, fig: &impl Figure) -> Result<FigureReport> {
    let mut bytes = Vec::new();
    match format_of(path)? {
        Format::Svg => {
            let mut s = String::new();
            fig.draw(SVGBackend::with_string(&mut s, SIZE).into_drawing_area())?;
            bytes.extend_from_slice(s.as_bytes());
        }
        Format::Png => {
            let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
            fig.draw(BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area())?;
            encode_png(&rgb, &mut bytes)?;
        }
    }
    write_atomic(path, force, |w| {
        w.write_all(&bytes).map_err(|e| Error::io(path, e))
    })?;
    Ok(FigureReport {
        path: path.display().to_string(),
        text: fig.text(),
    })
}

fn encode_png(rgb: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let mut enc = png::Encoder::new(&mut *out, SIZE.0, SIZE.1);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(draw_error)?;
    w.write_image_data(rgb).map_err(draw_error)?;
    w.finish().map_err(draw_error)
}

/// One curve of a line plot.
pub struct Curve<'a> {
    /// The legend's label.
    pub label: &'a str,
    /// (x, y) points.
    pub points: &'a [(f64, f64)],
    /// Drawn dashed and grey (a reference guide rather than data).
    pub guide: bool,
}

/// Curves on log-log axes (both coordinates must be positive), with markers on the data points.
pub fn loglog(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Curve],
    force: bool,
) -> Result<FigureReport> {
    log_axes(path, title, x_label, y_label, series, force, true)
}

/// Curves with a logarithmic y axis and a linear x axis (y must be positive).
pub fn semilogy(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Curve],
    force: bool,
) -> Result<FigureReport> {
    log_axes(path, title, x_label, y_label, series, force, false)
}

fn log_axes(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Curve],
    force: bool,
    log_x: bool,
) -> Result<FigureReport> {
    let pts: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .collect();
    let bad =
        |&(x, y): &(f64, f64)| !(y > 0.0 && y.is_finite() && x.is_finite() && (!log_x || x > 0.0));
    if pts.is_empty() || pts.iter().any(bad) {
        return Err(Error::InvalidParameter {
            name: "points on logarithmic axes",
            value: f64::NAN,
            requirement:
                "need at least one point, finite coordinates, > 0 on every logarithmic axis",
        });
    }
    let (xlo, xhi, ylo, yhi) = pts.iter().fold(
        (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, 0f64),
        |(a, b, c, d), &(x, y)| (a.min(x), b.max(x), c.min(y), d.max(y)),
    );
    let x = if log_x {
        (xlo / 1.15, xhi * 1.15)
    } else {
        let pad = 0.02 * (xhi - xlo).max(1.0);
        (xlo - pad, xhi + pad)
    };
    let fig = LogLogFigure {
        title,
        x_label,
        y_label,
        series,
        x,
        y: (ylo / 1.5, yhi * 1.5),
        log_x,
        text: font_available(),
    };
    write_figure(path, force, &fig)
}

struct LogLogFigure<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: &'a [Curve<'a>],
    x: (f64, f64),
    y: (f64, f64),
    log_x: bool,
    text: bool,
}

impl Figure for LogLogFigure<'_> {
    fn text(&self) -> bool {
        self.text
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        if self.log_x {
            self.draw_on(root, (self.x.0..self.x.1).log_scale())
        } else {
            self.draw_on(root, self.x.0..self.x.1)
        }
    }
}

impl LogLogFigure<'_> {
    fn draw_on<DB: DrawingBackend, X>(&self, root: DrawingArea<DB, Shift>, x_spec: X) -> Result<()>
    where
        DB::ErrorType: 'static,
        X: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
    {
        root.fill(&WHITE).map_err(draw_error)?;
        let mut builder = ChartBuilder::on(&root);
        builder.margin(14);
        if self.text {
            builder
                .caption(self.title, ("sans-serif", 20))
                .x_label_area_size(40)
                .y_label_area_size(70);
        }
        let mut chart = builder
            .build_cartesian_2d(x_spec, (self.y.0..self.y.1).log_scale())
            .map_err(draw_error)?;
        let mut mesh = chart.configure_mesh();
        if self.text {
            mesh.x_desc(self.x_label).y_desc(self.y_label);
        } else {
            mesh.x_labels(0).y_labels(0);
        }
        mesh.draw().map_err(draw_error)?;
        let mut k = 0;
        for s in self.series {
            let color = if s.guide {
                RGBColor(120, 120, 120)
            } else {
                let c = COLORS[k % COLORS.len()];
                k += 1;
                c
            };
            let style = color.stroke_width(if s.guide { 1 } else { 2 });
            let drawn = if s.guide {
                chart
                    .draw_series(DashedLineSeries::new(s.points.iter().copied(), 6, 4, style))
                    .map_err(draw_error)?
            } else {
                chart
                    .draw_series(LineSeries::new(s.points.iter().copied(), style))
                    .map_err(draw_error)?
            };
            if self.text {
                drawn.label(s.label).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
            if !s.guide {
                chart
                    .draw_series(s.points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                    .map_err(draw_error)?;
            }
        }
        if self.text {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::LowerLeft)
                .draw()
                .map_err(draw_error)?;
        }
        root.present().map_err(draw_error)?;
        Ok(())
    }
}

/// Points in the complex plane (re, im) with the unit circle, on equal axes: a spectrum of a non-symmetric
/// operator (Koopman, EDMD).
pub fn complex_plane(
    path: &Path,
    title: &str,
    series: &[(&str, &[(f64, f64)])],
    force: bool,
) -> Result<FigureReport> {
    let all = series.iter().flat_map(|s| s.1.iter());
    if all
        .clone()
        .any(|&(re, im)| !(re.is_finite() && im.is_finite()))
    {
        return Err(Error::InvalidParameter {
            name: "eigenvalues to plot",
            value: f64::NAN,
            requirement: "every real and imaginary part must be finite",
        });
    }
    let reach = all
        .fold(1f64, |m, &(re, im)| m.max(re.abs()).max(im.abs()))
        .max(1.0)
        * 1.1;
    let fig = ComplexPlane {
        title,
        series,
        reach,
        text: font_available(),
    };
    write_figure(path, force, &fig)
}

struct ComplexPlane<'a> {
    title: &'a str,
    series: &'a [(&'a str, &'a [(f64, f64)])],
    reach: f64,
    text: bool,
}

impl Figure for ComplexPlane<'_> {
    fn text(&self) -> bool {
        self.text
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(draw_error)?;
        // A plotting area as wide as it is tall keeps the circle round: 540 px wide, centred, leaves about
        // 460 px for each axis after the caption, labels and margins.
        let side = (SIZE.0 as i32 - 540) / 2;
        let area = root.margin(0, 0, side, side);
        let mut builder = ChartBuilder::on(&area);
        builder.margin(14);
        if self.text {
            builder
                .caption(self.title, ("sans-serif", 20))
                .x_label_area_size(40)
                .y_label_area_size(50);
        }
        let r = self.reach;
        let mut chart = builder
            .build_cartesian_2d(-r..r, -r..r)
            .map_err(draw_error)?;
        let mut mesh = chart.configure_mesh();
        if self.text {
            mesh.x_desc("Re λ").y_desc("Im λ");
        } else {
            mesh.x_labels(0).y_labels(0);
        }
        mesh.draw().map_err(draw_error)?;
        let circle: Vec<(f64, f64)> = (0..=360)
            .map(|k| {
                let t = k as f64 * std::f64::consts::TAU / 360.0;
                (t.cos(), t.sin())
            })
            .collect();
        chart
            .draw_series(DashedLineSeries::new(
                circle,
                6,
                4,
                RGBColor(120, 120, 120).stroke_width(1),
            ))
            .map_err(draw_error)?;
        for (k, (label, points)) in self.series.iter().enumerate() {
            let color = COLORS[k % COLORS.len()];
            let drawn = chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(draw_error)?;
            if self.text {
                drawn
                    .label(*label)
                    .legend(move |(x, y)| Circle::new((x + 9, y), 4, color.filled()));
            }
        }
        if self.text {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(draw_error)?;
        }
        root.present().map_err(draw_error)?;
        Ok(())
    }
}

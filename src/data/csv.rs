//! Numeric CSV: one sample per row, one column holding integer class labels, an optional header line.
//! Separators: comma, semicolon or tab (the first of these found in the first line).

use std::path::Path;

use ndarray::{Array1, Array2};

use super::Dataset;
use crate::{Error, Result};

fn err(path: &Path, detail: impl Into<String>) -> Error {
    Error::format(path, detail)
}

/// Which column holds the labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelColumn {
    /// 0-based index (negative counts from the end: −1 is the last column).
    Index(isize),
    /// A header name.
    Name(String),
}

impl LabelColumn {
    /// `"3"`, `"-1"` → an index; anything else → a header name.
    pub fn parse(s: &str) -> Self {
        s.trim()
            .parse::<isize>()
            .map(LabelColumn::Index)
            .unwrap_or_else(|_| LabelColumn::Name(s.trim().to_string()))
    }
}

/// Read a CSV data set. Labels are the distinct values of the label column in order of first appearance,
/// mapped to 0..K−1 (the mapping is returned).
pub fn load(path: &Path, label: &LabelColumn) -> Result<(Dataset, Vec<String>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse(path, &text, label)
}

/// [`load`] from CSV text.
pub fn from_text(text: &str, label: &LabelColumn) -> Result<(Dataset, Vec<String>)> {
    parse(Path::new("(CSV text)"), text, label)
}

fn parse(path: &Path, text: &str, label: &LabelColumn) -> Result<(Dataset, Vec<String>)> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty()).peekable();
    let first = *lines.peek().ok_or_else(|| err(path, "the file is empty"))?;
    let sep = [',', ';', '\t']
        .into_iter()
        .find(|c| first.contains(*c))
        .unwrap_or(',');
    let split = |l: &str| -> Vec<String> { l.split(sep).map(|t| t.trim().to_string()).collect() };
    let first_fields = split(first);
    let header = first_fields.iter().any(|f| f.parse::<f64>().is_err());
    let names = if header {
        lines.next();
        Some(first_fields.clone())
    } else {
        None
    };
    let width = first_fields.len();
    let column = match label {
        LabelColumn::Index(i) => {
            let k = if *i < 0 { width as isize + i } else { *i };
            if k < 0 || k as usize >= width {
                return Err(err(
                    path,
                    format!("label column {i} is outside the {width} columns"),
                ));
            }
            k as usize
        }
        LabelColumn::Name(n) => names
            .as_ref()
            .and_then(|h| h.iter().position(|f| f == n))
            .ok_or_else(|| err(path, format!("no header column named `{n}`")))?,
    };
    let mut values = Vec::new();
    let mut classes: Vec<String> = Vec::new();
    let mut labels = Vec::new();
    let mut rows = 0;
    for (k, line) in lines.enumerate() {
        let fields = split(line);
        let line_no = k + 1 + usize::from(header);
        if fields.len() != width {
            return Err(err(
                path,
                format!(
                    "line {line_no} has {} fields, the first line has {width}",
                    fields.len()
                ),
            ));
        }
        for (c, f) in fields.iter().enumerate() {
            if c == column {
                let pos = classes.iter().position(|x| x == f).unwrap_or_else(|| {
                    classes.push(f.clone());
                    classes.len() - 1
                });
                labels.push(pos as i64);
            } else {
                let v: f64 = f.parse().map_err(|_| {
                    err(
                        path,
                        format!("line {line_no}, column {c}: `{f}` is not a number"),
                    )
                })?;
                if !v.is_finite() {
                    return Err(err(
                        path,
                        format!("line {line_no}, column {c}: non-finite value {v}"),
                    ));
                }
                values.push(v);
            }
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(err(path, "no data rows"));
    }
    let x = Array2::from_shape_vec((rows, width - 1), values).expect("row widths checked");
    Ok((Dataset::new(x, Array1::from(labels))?, classes))
}

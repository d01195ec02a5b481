//! CSV text with its label column: the first line of the input names the column (an index or a header name),
//! the rest is the file.
#![no_main]

use deq_kernels::data::csv::{from_text, LabelColumn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (column, body) = text.split_once('\n').unwrap_or((&text, ""));
    if let Ok((d, classes)) = from_text(body, &LabelColumn::parse(column)) {
        assert_eq!(d.x.nrows(), d.labels.len());
        assert!(d
            .labels
            .iter()
            .all(|&l| l >= 0 && (l as usize) < classes.len()));
        assert!(d.x.iter().all(|v| v.is_finite()));
    }
});

//! A progress bar on a terminal, nothing otherwise.

use std::io::IsTerminal;

use deq_kernels::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};

pub struct Bar(ProgressBar);

impl Bar {
    pub fn new(label: &'static str) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template("{prefix} [{bar:40}] {percent:>3}% eta {eta}")
                    .expect("template")
                    .progress_chars("=> "),
            );
            b.set_prefix(label);
            b
        } else {
            ProgressBar::hidden()
        };
        Bar(bar)
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }
    fn advance(&self, units: u64) {
        self.0.inc(units);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

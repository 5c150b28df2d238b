//! Human output: the number forms of `servemath_report::human` and the plain-text table of
//! `servemath_report::text`.

pub use servemath_report::human::*;
pub use servemath_report::text::{Align, Table};

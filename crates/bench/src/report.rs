//! What a scenario reports: rows of protected-vs-plain pairs with their ratio, the targets
//! and whether each is met, and notes. Rendered as a Markdown table or as JSON.

use std::fmt::Write as _;

use serde::Serialize;

/// One measured comparison: the protected path beside the same work unprotected.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub what: String,
    pub unit: String,
    pub protected: f64,
    pub plain: f64,
    /// How many times more expensive the protected path is (≥ 1 means slower), computed from
    /// time per operation so that it reads the same way for rates and for times.
    pub cost_ratio: f64,
    /// Extra columns (latency percentiles and the like), already formatted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<(String, String)>,
}

/// Whether bigger numbers are better (rates) or smaller (times, memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

impl Row {
    pub fn new(what: impl Into<String>, unit: impl Into<String>, protected: f64, plain: f64, better: Better) -> Self {
        let cost_ratio = match better {
            Better::Higher => plain / protected,
            Better::Lower => protected / plain,
        };
        Self { what: what.into(), unit: unit.into(), protected, plain, cost_ratio, extra: Vec::new() }
    }

    #[must_use]
    pub fn extra(mut self, name: &str, value: impl Into<String>) -> Self {
        self.extra.push((name.to_owned(), value.into()));
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub what: String,
    pub goal: String,
    pub measured: String,
    /// `None` when the run was smaller than the size the target is stated for.
    pub met: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: String,
    pub title: String,
    /// Sizes and settings the figures were taken with.
    pub settings: Vec<(String, String)>,
    pub rows: Vec<Row>,
    pub targets: Vec<Target>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn new(scenario: &str, title: &str) -> Self {
        Self {
            scenario: scenario.to_owned(),
            title: title.to_owned(),
            settings: Vec::new(),
            rows: Vec::new(),
            targets: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn setting(&mut self, name: &str, value: &impl ToString) {
        self.settings.push((name.to_owned(), value.to_string()));
    }

    pub fn target(&mut self, what: &str, goal: &str, measured: String, met: Option<bool>) {
        self.targets.push(Target { what: what.to_owned(), goal: goal.to_owned(), measured, met });
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "### `{}`: {}\n", self.scenario, self.title);
        if !self.settings.is_empty() {
            let settings: Vec<String> = self.settings.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            let _ = writeln!(out, "Settings: {}\n", settings.join(", "));
        }
        let extra_names: Vec<&str> = {
            let mut names: Vec<&str> = Vec::new();
            for row in &self.rows {
                for (name, _) in &row.extra {
                    if !names.contains(&name.as_str()) {
                        names.push(name);
                    }
                }
            }
            names
        };
        let _ = write!(out, "| measurement | unit | protected | plain | cost ratio |");
        for name in &extra_names {
            let _ = write!(out, " {name} |");
        }
        let _ = write!(out, "\n| --- | --- | ---: | ---: | ---: |");
        for _ in &extra_names {
            let _ = write!(out, " --- |");
        }
        out.push('\n');
        for row in &self.rows {
            let _ = write!(
                out,
                "| {} | {} | {} | {} | {:.2}× |",
                row.what,
                row.unit,
                number(row.protected),
                number(row.plain),
                row.cost_ratio
            );
            for name in &extra_names {
                let value = row.extra.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str());
                let _ = write!(out, " {value} |");
            }
            out.push('\n');
        }
        if !self.targets.is_empty() {
            out.push_str("\n| target | goal | measured | met |\n| --- | --- | --- | --- |\n");
            for t in &self.targets {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    t.what,
                    t.goal,
                    t.measured,
                    match t.met {
                        Some(true) => "yes",
                        Some(false) => "**no**",
                        None => "not at full size",
                    }
                );
            }
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }
}

/// A figure with a sensible number of digits and thousands separators.
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let abs = x.abs();
    if abs >= 1000.0 {
        #[allow(clippy::cast_possible_truncation)] // rounded figures far below i64::MAX
        let rounded = x.round() as i64;
        thousands(rounded)
    } else if abs >= 100.0 {
        format!("{x:.0}")
    } else if abs >= 10.0 {
        format!("{x:.1}")
    } else if abs >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(1_234_567.4), "1,234,567");
        assert_eq!(number(12.345), "12.3");
        assert_eq!(number(0.1234), "0.123");
    }

    #[test]
    fn ratio_reads_as_cost_either_way() {
        assert!((Row::new("r", "req/s", 50.0, 100.0, Better::Higher).cost_ratio - 2.0).abs() < 1e-9);
        assert!((Row::new("t", "s", 3.0, 1.5, Better::Lower).cost_ratio - 2.0).abs() < 1e-9);
    }
}

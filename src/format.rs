//! Text for people: byte sizes and aligned tables.
//!
//! Kept apart from the commands so that every table in ferry lines up the
//! same way and sizes read the same everywhere.

/// `n` and the noun, plural unless `n` is 1: "1 file", "2 files".
pub fn count(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// 1536 -> "1.5 KiB"; binary units, one decimal above bytes.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// 1234567 -> "1,234,567".
pub fn thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut grouped = String::with_capacity(digits.len() * 4 / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// "100k" -> 102400. Units K, M, G, T are binary (as rclone reads them);
/// a trailing "B" or "iB" is allowed.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let upper = trimmed.to_ascii_uppercase();
    let number_end = upper
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(upper.len());
    let (number, unit) = upper.split_at(number_end);
    let unit = unit.trim().trim_end_matches('B').trim_end_matches('I');
    let shift = match unit {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("unknown size unit in {text:?} (use K, M, G or T)")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (try 100k, 2M or 4G)"))?;
    let bytes = value * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(bytes as u64)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Columns padded to their widest cell, in terminal columns (a CJK
/// character takes two, a combining accent none); the last column is never
/// padded.
pub fn table(header: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header
        .iter()
        .map(|(name, _)| console::measure_text_width(name))
        .collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(console::measure_text_width(cell));
        }
    }
    let mut out = String::new();
    let names: Vec<String> = header.iter().map(|(name, _)| name.to_string()).collect();
    for row in std::iter::once(&names).chain(rows) {
        let last = row.len().saturating_sub(1);
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            let pad = widths[column].saturating_sub(console::measure_text_width(cell));
            let align = header[column].1;
            if column > 0 {
                line.push_str("  ");
            }
            if align == Align::Right {
                line.push_str(&" ".repeat(pad));
            }
            line.push_str(cell);
            if align == Align::Left && column != last {
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("100k"), Ok(102_400));
        assert_eq!(parse_size("2MiB"), Ok(2 << 20));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn wide_characters_keep_the_next_column_in_line() {
        let rows = vec![
            vec!["写真.jpg".to_owned(), "HTTP 404".to_owned()],
            vec!["cafe\u{301}.jpg".to_owned(), "refused".to_owned()],
            vec!["a.jpg".to_owned(), "x".to_owned()],
        ];
        let text = table(&[("NAME", Align::Left), ("ERROR", Align::Left)], &rows);
        let starts: Vec<usize> = text
            .lines()
            .map(|line| {
                let at = line.rfind("  ").unwrap() + 2;
                console::measure_text_width(&line[..at])
            })
            .collect();
        assert_eq!(starts, vec![10, 10, 10, 10], "{text}");
    }

    #[test]
    fn tables_align_columns() {
        let text = table(
            &[
                ("NAME", Align::Left),
                ("SIZE", Align::Right),
                ("NOTE", Align::Left),
            ],
            &[
                vec!["a".into(), "10 B".into(), "x".into()],
                vec!["longer".into(), "2.0 KiB".into(), "".into()],
            ],
        );
        assert_eq!(
            text,
            "NAME       SIZE  NOTE\na          10 B  x\nlonger  2.0 KiB\n"
        );
    }
}

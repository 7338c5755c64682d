//! Human-readable sizes and durations as docker/go-units prints them, for the columns Podman
//! builds with it (`SIZE`, `CREATED`, ps `STATUS`).

use std::time::Duration;

use super::template::fmt::format_float_g;

const DECIMAL_ABBRS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_ABBRS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

fn size_and_unit(mut size: f64, base: f64, abbrs: &[&'static str]) -> (f64, &'static str) {
    let mut i = 0;
    while size >= base && i < abbrs.len() - 1 {
        size /= base;
        i += 1;
    }
    (size, abbrs[i])
}

/// go-units `HumanSizeWithPrecision`: decimal units, `precision` significant digits, no space
/// (`4.26MB`, `512B`, `1e+03kB`).
pub fn human_size_with_precision(size: f64, precision: usize) -> String {
    let (size, unit) = size_and_unit(size, 1000.0, &DECIMAL_ABBRS);
    format!("{}{}", format_float_g(size, Some(precision), false), unit)
}

/// go-units `HumanSize`: decimal units, four significant digits (`1.049MB`, `2MB`). Podman uses
/// it in `system df`, `stats` and `artifact ls`.
pub fn decimal_size(size: f64) -> String {
    human_size_with_precision(size, 4)
}

/// go-units `BytesSize`: binary units, four significant digits (`1KiB`, `3.42GiB`). Podman uses
/// it in `stats` and `machine list`.
pub fn binary_size(size: f64) -> String {
    let (size, unit) = size_and_unit(size, 1024.0, &BINARY_ABBRS);
    format!("{}{}", format_float_g(size, Some(4), false), unit)
}

/// The SIZE column of `podman images`: go-units `HumanSizeWithPrecision(size, 3)` with a space
/// before the unit (`4.26 MB`, `512 B`). (`history` and `ps --size` print
/// [`human_size_with_precision`]`(size, 3)`, without the space: `4.26MB`.)
pub fn human_size(bytes: u64) -> String {
    let s = human_size_with_precision(bytes as f64, 3);
    let j = s.rfind(|c: char| c.is_ascii_digit()).map(|j| j + 1).unwrap_or(0);
    format!("{} {}", &s[..j], &s[j..])
}

/// go-units `HumanDuration`: `Less than a second`, `1 second`, `About a minute`, `3 hours`,
/// `2 weeks`... Podman appends ` ago` for CREATED and builds ps STATUS (`Up 5 minutes`,
/// `Exited (0) 2 seconds ago`) from it.
pub fn human_duration(d: Duration) -> String {
    let secs_f = d.as_secs_f64();
    let seconds = secs_f as i64;
    if seconds < 1 {
        return "Less than a second".into();
    }
    if seconds == 1 {
        return "1 second".into();
    }
    if seconds < 60 {
        return format!("{} seconds", seconds);
    }
    let minutes = (secs_f / 60.0) as i64;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{} minutes", minutes);
    }
    let hours = (secs_f / 3600.0 + 0.5) as i64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{} hours", hours);
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", (secs_f / 3600.0) as i64 / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KB: f64 = 1000.0;
    const MB: f64 = 1000.0 * KB;
    const GB: f64 = 1000.0 * MB;
    const TB: f64 = 1000.0 * GB;
    const PB: f64 = 1000.0 * TB;
    const KIB: f64 = 1024.0;
    const MIB: f64 = 1024.0 * KIB;
    const GIB: f64 = 1024.0 * MIB;
    const TIB: f64 = 1024.0 * GIB;
    const PIB: f64 = 1024.0 * TIB;

    #[test]
    fn go_units_decimal_size() {
        // go-units size_test.go TestHumanSize.
        assert_eq!(decimal_size(1000.0), "1kB");
        assert_eq!(decimal_size(1024.0), "1.024kB");
        assert_eq!(decimal_size(1000000.0), "1MB");
        assert_eq!(decimal_size(1048576.0), "1.049MB");
        assert_eq!(decimal_size(2.0 * MB), "2MB");
        assert_eq!(decimal_size(3.42 * GB), "3.42GB");
        assert_eq!(decimal_size(5.372 * TB), "5.372TB");
        assert_eq!(decimal_size(2.22 * PB), "2.22PB");
        assert_eq!(decimal_size(10000000000000.0 * PB), "1e+04YB");
    }

    #[test]
    fn go_units_binary_size() {
        // go-units size_test.go TestBytesSize.
        assert_eq!(binary_size(1024.0), "1KiB");
        assert_eq!(binary_size(1024.0 * 1024.0), "1MiB");
        assert_eq!(binary_size(1048576.0), "1MiB");
        assert_eq!(binary_size(2.0 * MIB), "2MiB");
        assert_eq!(binary_size(3.42 * GIB), "3.42GiB");
        assert_eq!(binary_size(5.372 * TIB), "5.372TiB");
        assert_eq!(binary_size(2.22 * PIB), "2.22PiB");
        assert_eq!(binary_size(KIB * KIB * KIB * KIB * KIB * PIB), "1.049e+06YiB");
    }

    #[test]
    fn podman_image_sizes() {
        assert_eq!(human_size_with_precision(4_263_411.0, 3), "4.26MB");
        assert_eq!(human_size(4_263_411), "4.26 MB");
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1_000), "1 kB");
        assert_eq!(human_size(77_800_000), "77.8 MB");
        assert_eq!(human_size(999_500), "1e+03 kB");
    }

    #[test]
    fn go_units_human_duration() {
        // go-units duration_test.go TestHumanDuration.
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        let min = |m: u64| s(m * 60);
        let hour = |h: u64| s(h * 3600);
        let day = |d: u64| hour(d * 24);
        let week = |w: u64| day(w * 7);
        let month = |m: u64| day(m * 30);
        let year = |y: u64| day(y * 365);
        let cases: Vec<(&str, Duration)> = vec![
            ("Less than a second", ms(450)),
            ("1 second", s(1)),
            ("45 seconds", s(45)),
            ("46 seconds", s(46)),
            ("59 seconds", s(59)),
            ("About a minute", s(60)),
            ("About a minute", min(1)),
            ("3 minutes", min(3)),
            ("35 minutes", min(35)),
            ("35 minutes", min(35) + s(40)),
            ("45 minutes", min(45)),
            ("45 minutes", min(45) + s(40)),
            ("46 minutes", min(46)),
            ("59 minutes", min(59)),
            ("About an hour", hour(1)),
            ("About an hour", hour(1) + min(29)),
            ("2 hours", hour(1) + min(31)),
            ("2 hours", hour(1) + min(59)),
            ("3 hours", hour(3)),
            ("3 hours", hour(3) + min(29)),
            ("4 hours", hour(3) + min(31)),
            ("4 hours", hour(3) + min(59)),
            ("4 hours", hour(3) + min(60)),
            ("24 hours", hour(24)),
            ("36 hours", day(1) + hour(12)),
            ("2 days", day(2)),
            ("7 days", day(7)),
            ("13 days", day(13) + hour(5)),
            ("2 weeks", week(2)),
            ("2 weeks", week(2) + day(4)),
            ("3 weeks", week(3)),
            ("4 weeks", week(4)),
            ("4 weeks", week(4) + day(3)),
            ("4 weeks", month(1)),
            ("6 weeks", month(1) + week(2)),
            ("2 months", month(2)),
            ("2 months", month(2) + week(2)),
            ("3 months", month(3)),
            ("3 months", month(3) + week(1)),
            ("5 months", month(5) + week(2)),
            ("13 months", month(13)),
            ("23 months", month(23)),
            ("24 months", month(24)),
            ("2 years", month(24) + week(2)),
            ("3 years", year(3) + month(2)),
        ];
        for (want, d) in cases {
            assert_eq!(human_duration(d), want, "{d:?}");
        }
    }
}

//! Costing prototype for `npm run bench:ingest-native-floor` (not part of the platform): the
//! same hand-written checks and rules of `hospital_episodes` as bench/ingest-js-floor.ts,
//! compiled. Rows it is not sure of it only counts (a real fast path would hand them to the
//! TypeScript core). The TypeScript side converts its spool with DuckDB and checks every
//! line against the pipeline's own.
//!
//! Usage: sde-native-floor CSV OPT_OUT_LIST SPOOL LOAD_DATE
//! Prints one JSON line: rows, rows_handled, rows_for_the_core, rows_opted_out,
//! distinct_people_hashed, cpu_s (this process, user + system).

mod sha256;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{BufWriter, Write};

const COMMA: u8 = b',';
const LF: u8 = b'\n';
const CR: u8 = b'\r';
const QUOTE: u8 = b'"';
const COLUMNS: usize = 17;
const KEY: [u8; 32] = [7u8; 32];

// The episodes file's columns, by position (config/datasets/hospital_episodes.yaml).
const EPISODE_ID: usize = 0;
const NHS_NUMBER: usize = 1;
const DATE_OF_BIRTH: usize = 2;
const SEX: usize = 3;
const ETHNICITY: usize = 4;
const POSTCODE: usize = 5;
const LSOA: usize = 6;
const GP_PRACTICE: usize = 7;
const PROVIDER: usize = 8;
const ADMISSION: usize = 9;
const DISCHARGE: usize = 10;
const ADMISSION_METHOD: usize = 11;
const PRIMARY_DIAGNOSIS: usize = 12;
const SECONDARY_DIAGNOSES: usize = 13;
const PRIMARY_PROCEDURE: usize = 14;
const LENGTH_OF_STAY: usize = 15;
const CLINICAL_NOTES: usize = 16;
/// The kept text columns with no format: the identifier guard's columns.
const UNFORMATTED: [usize; 4] = [SEX, ETHNICITY, ADMISSION_METHOD, SECONDARY_DIAGNOSES];

fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}
fn is_upper(c: u8) -> bool {
    c.is_ascii_uppercase()
}
fn is_letter(c: u8) -> bool {
    c.is_ascii_alphabetic()
}
fn in_set(c: u8, set: &[u8]) -> bool {
    set.contains(&c)
}
// The postcode pattern's letter classes (lambdas/core/postcode.ts).
const PC_FIRST: &[u8] = b"ABCDEFGHIJKLMNOPRSTUWYZ";
const PC_SECOND: &[u8] = b"ABCDEFGHKLMNOPQRSTUVWXY";
const PC_THIRD_AFTER_DIGIT: &[u8] = b"ABCDEFGHJKPSTUW";
const PC_FOURTH: &[u8] = b"ABEHMNPRVWXY";
const PC_INWARD: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
const OPCS_CHAPTER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// YYYYMMDD of a real calendar date written YYYY-MM-DD, or None.
fn date(f: &[u8]) -> Option<u32> {
    if f.len() != 10 || f[4] != b'-' || f[7] != b'-' {
        return None;
    }
    let mut v = [0u32; 8];
    for (k, i) in [0, 1, 2, 3, 5, 6, 8, 9].iter().enumerate() {
        if !is_digit(f[*i]) {
            return None;
        }
        v[k] = (f[*i] - b'0') as u32;
    }
    let y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    let m = v[4] * 10 + v[5];
    let d = v[6] * 10 + v[7];
    if y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(y * 10000 + m * 100 + d)
}

/// A record key the core keeps as it is: key characters, no run of ten digits, no hyphen.
fn record_id(f: &[u8]) -> bool {
    if f.is_empty() || f.len() > 64 || !(is_digit(f[0]) || is_letter(f[0])) {
        return false;
    }
    let mut run = 0;
    for &c in f {
        if is_digit(c) {
            run += 1;
            if run >= 10 {
                return false;
            }
        } else {
            run = 0;
            if !(is_letter(c) || c == b'.' || c == b'_' || c == b':' || c == b'/') {
                return false;
            }
        }
    }
    true
}

/// A kept value with no format that cannot hold anything the identifier guard looks for
/// (see plainCode in bench/ingest-js-floor.ts). Empty is null.
fn plain_code(f: &[u8]) -> bool {
    if f.is_empty() {
        return true;
    }
    if f[0] == b'=' || f[0] == b'+' {
        return false;
    }
    let mut digits = 0;
    for k in 0..f.len() {
        let c = f[k];
        if c <= 32 || c >= 127 || c == b'@' || c == b'.' || c == b'/' || c == b'-' || c == COMMA || c == QUOTE {
            return false;
        }
        if is_digit(c) {
            digits += 1;
            if k + 2 < f.len() && is_letter(f[k + 1]) && is_letter(f[k + 2]) {
                return false;
            }
        }
    }
    digits < 10
}

/// A postcode in its normal form: Some(length of the outward code), Some(0) for none, None when unsure.
fn postcode(f: &[u8]) -> Option<usize> {
    if f.is_empty() {
        return Some(0);
    }
    if f.len() < 6 || f.len() > 8 {
        return None;
    }
    let space = f.len() - 4;
    if f[space] != b' ' || !is_digit(f[space + 1]) || !in_set(f[space + 2], PC_INWARD) || !in_set(f[space + 3], PC_INWARD) {
        return None;
    }
    if !in_set(f[0], PC_FIRST) {
        return None;
    }
    let ok = match space {
        2 => is_digit(f[1]),
        3 => (is_digit(f[1]) && is_digit(f[2])) || (in_set(f[1], PC_SECOND) && is_digit(f[2])) || (is_digit(f[1]) && in_set(f[2], PC_THIRD_AFTER_DIGIT)),
        _ => in_set(f[1], PC_SECOND) && is_digit(f[2]) && (is_digit(f[3]) || in_set(f[3], PC_FOURTH)),
    };
    if ok {
        Some(space)
    } else {
        None
    }
}

fn lsoa(f: &[u8]) -> bool {
    f.is_empty() || (f.len() == 9 && (f[0] == b'E' || f[0] == b'W') && f[1] == b'0' && f[2] == b'1' && f[3..].iter().all(|&c| is_digit(c)))
}

fn ods(f: &[u8]) -> bool {
    f.is_empty() || ((3..=6).contains(&f.len()) && f.iter().all(|&c| is_digit(c) || is_upper(c)))
}

fn icd10(f: &[u8]) -> bool {
    if f.is_empty() {
        return true;
    }
    if f.len() < 3 || !is_upper(f[0]) || !is_digit(f[1]) || !is_digit(f[2]) {
        return false;
    }
    let mut k = 3;
    let dot = k < f.len() && f[k] == b'.';
    if dot {
        k += 1;
    }
    let mut extra = 0;
    while k < f.len() && extra < 2 && (is_digit(f[k]) || f[k] == b'X') {
        k += 1;
        extra += 1;
    }
    if dot && extra == 0 {
        return false;
    }
    if k < f.len() && (f[k] == b'A' || f[k] == b'D') {
        k += 1;
    }
    k == f.len()
}

fn opcs4(f: &[u8]) -> bool {
    if f.is_empty() {
        return true;
    }
    if f.len() < 3 || !in_set(f[0], OPCS_CHAPTER) || !is_digit(f[1]) || !is_digit(f[2]) {
        return false;
    }
    match f.len() {
        3 => true,
        4 => is_digit(f[3]),
        5 => f[3] == b'.' && is_digit(f[4]),
        _ => false,
    }
}

/// A whole number written as the core writes it back: no sign, no leading zero, at most 15 digits.
fn count(f: &[u8]) -> bool {
    f.is_empty() || (f.len() <= 15 && !(f[0] == b'0' && f.len() > 1) && f.iter().all(|&c| is_digit(c)))
}

struct Totals {
    handled: u64,
    handed_on: u64,
    opted_out: u64,
    hmacs: u64,
}

struct Loop<'a> {
    latest_birth: u32,
    latest_event: u32,
    opt_out: &'a HashSet<u64>,
    hmac: sha256::Hmac,
    pseudonyms: HashMap<u64, [u8; 64]>,
    out: Vec<u8>,
    totals: Totals,
}

impl<'a> Loop<'a> {
    /// Checks and writes one split record; false when it is not sure (the core would decide).
    fn record(&mut self, f: &[&[u8]; COLUMNS]) -> bool {
        let nhs_field = f[NHS_NUMBER];
        if nhs_field.len() != 10 || !nhs_field.iter().all(|&c| is_digit(c)) {
            return false;
        }
        let mut nhs: u64 = 0;
        let mut sum = 0u32;
        for (k, &c) in nhs_field.iter().enumerate() {
            let d = (c - b'0') as u32;
            nhs = nhs * 10 + d as u64;
            if k < 9 {
                sum += d * (10 - k as u32);
            }
        }
        let check = match 11 - sum % 11 {
            11 => 0,
            c => c,
        };
        if check == 10 || check != (nhs_field[9] - b'0') as u32 {
            return false;
        }
        let birth = match date(f[DATE_OF_BIRTH]) {
            Some(b) if (18900101..=self.latest_birth).contains(&b) => b,
            _ => return false,
        };
        let admitted = match date(f[ADMISSION]) {
            Some(a) if (19000101..=self.latest_event).contains(&a) && a >= birth => a,
            _ => return false,
        };
        let discharged = if f[DISCHARGE].is_empty() {
            false
        } else {
            match date(f[DISCHARGE]) {
                Some(d) if (19000101..=self.latest_event).contains(&d) => true,
                _ => return false,
            }
        };
        if !record_id(f[EPISODE_ID]) || !UNFORMATTED.iter().all(|&c| plain_code(f[c])) {
            return false;
        }
        let outward = match postcode(f[POSTCODE]) {
            Some(o) => o,
            None => return false,
        };
        if !lsoa(f[LSOA]) || !ods(f[GP_PRACTICE]) || !ods(f[PROVIDER]) || !icd10(f[PRIMARY_DIAGNOSIS]) || !opcs4(f[PRIMARY_PROCEDURE]) || !count(f[LENGTH_OF_STAY]) {
            return false;
        }
        // Dropped free text is still refused for a NUL byte: the core would say so.
        if f[CLINICAL_NOTES].contains(&0) {
            return false;
        }
        self.totals.handled += 1;
        if self.opt_out.contains(&nhs) {
            self.totals.opted_out += 1;
            return true;
        }
        let age = admitted / 10000 - birth / 10000 - if admitted % 10000 < birth % 10000 { 1 } else { 0 };
        let pseudonym = match self.pseudonyms.get(&nhs) {
            Some(p) => *p,
            None => {
                let p = self.hmac.hex(nhs_field);
                if self.pseudonyms.len() >= 200_000 {
                    self.pseudonyms.clear();
                }
                self.pseudonyms.insert(nhs, p);
                self.totals.hmacs += 1;
                p
            }
        };
        let out = &mut self.out;
        out.extend_from_slice(f[EPISODE_ID]);
        out.push(COMMA);
        out.extend_from_slice(&pseudonym);
        out.push(COMMA);
        if age >= 90 {
            out.extend_from_slice(b"90+");
        } else {
            let low = age / 5 * 5;
            write!(out, "{}-{}", low, low + 4).unwrap();
        }
        for (col, len) in [(SEX, None), (ETHNICITY, None), (POSTCODE, Some(outward)), (LSOA, None), (GP_PRACTICE, None), (PROVIDER, None)] {
            out.push(COMMA);
            out.extend_from_slice(&f[col][..len.unwrap_or(f[col].len())]);
        }
        out.push(COMMA);
        out.extend_from_slice(&f[ADMISSION][..7]);
        out.push(COMMA);
        if discharged {
            out.extend_from_slice(&f[DISCHARGE][..7]);
        }
        for col in [ADMISSION_METHOD, PRIMARY_DIAGNOSIS, SECONDARY_DIAGNOSES, PRIMARY_PROCEDURE, LENGTH_OF_STAY] {
            out.push(COMMA);
            out.extend_from_slice(f[col]);
        }
        out.push(LF);
        true
    }
}

/// Splits the record at `from` into fields; returns (fields, whether it is simple, the index after its line end).
fn split(b: &[u8], from: usize) -> (Vec<&[u8]>, bool, usize) {
    let mut fields: Vec<&[u8]> = Vec::with_capacity(COLUMNS + 1);
    let mut j = from;
    let mut sure = true;
    loop {
        let c;
        if j < b.len() && b[j] == QUOTE {
            match b[j + 1..].iter().position(|&x| x == QUOTE) {
                Some(p) => {
                    let close = j + 1 + p;
                    if b[j + 1..close].iter().any(|&x| x == LF || x == CR) {
                        sure = false;
                    }
                    fields.push(&b[j + 1..close]);
                    j = close + 1;
                    c = if j < b.len() { b[j] } else { LF };
                    if c != COMMA && c != LF && c != CR {
                        sure = false;
                    }
                }
                None => {
                    sure = false;
                    c = LF;
                }
            }
        } else {
            let s = j;
            while j < b.len() && b[j] != COMMA && b[j] != LF && b[j] != CR {
                if b[j] == QUOTE {
                    sure = false;
                }
                j += 1;
            }
            fields.push(&b[s..j]);
            c = if j < b.len() { b[j] } else { LF };
        }
        if !sure {
            break;
        }
        if c == COMMA {
            j += 1;
            continue;
        }
        break;
    }
    if !sure {
        let end = b[j.min(b.len())..].iter().position(|&x| x == LF).map_or(b.len(), |p| j + p + 1);
        return (fields, false, end);
    }
    let mut next = j;
    if next < b.len() && b[next] == CR {
        next += 1;
    }
    if next < b.len() && b[next] == LF {
        next += 1;
    }
    (fields, true, next)
}

fn cpu_seconds() -> f64 {
    // utime and stime, fields 14 and 15 of /proc/self/stat, in clock ticks (100 per second).
    let stat = fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let parts: Vec<&str> = after.split(' ').collect();
    (parts[11].parse::<f64>().unwrap() + parts[12].parse::<f64>().unwrap()) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: sde-native-floor CSV OPT_OUT_LIST SPOOL LOAD_DATE");
        std::process::exit(2);
    }
    // Read leniently (the pipeline's reader refuses a bad line; the TypeScript side reads the
    // same list strictly before this runs).
    let opt_out: HashSet<u64> = fs::read_to_string(&args[2])
        .unwrap()
        .lines()
        .map(|l| l.split('#').next().unwrap().trim().replace([' ', '-'], ""))
        .filter(|l| !l.is_empty())
        .map(|l| l.parse::<u64>().unwrap())
        .collect();
    let load = date(args[4].as_bytes()).expect("LOAD_DATE must be YYYY-MM-DD");
    let cpu0 = cpu_seconds();
    // The whole file at once: a costing prototype (the pipeline streams it in chunks).
    let b = fs::read(&args[1]).unwrap();
    // The pipeline refuses a file that is not UTF-8.
    std::str::from_utf8(&b).expect("the benchmark file is not UTF-8");
    let mut spool = BufWriter::with_capacity(1 << 21, fs::File::create(&args[3]).unwrap());
    let (ly, lm, ld) = (load / 10000, load / 100 % 100, load % 100);
    let latest_event = if ld < days_in_month(ly, lm) { load + 1 } else if lm < 12 { ly * 10000 + (lm + 1) * 100 + 1 } else { (ly + 1) * 10000 + 101 };
    let mut run = Loop {
        latest_birth: load,
        latest_event,
        opt_out: &opt_out,
        hmac: sha256::Hmac::new(&KEY),
        pseudonyms: HashMap::new(),
        out: Vec::with_capacity(1 << 21),
        totals: Totals { handled: 0, handed_on: 0, opted_out: 0, hmacs: 0 },
    };
    // The header (bench:ingest's file always has one).
    let mut i = b.iter().position(|&x| x == LF).unwrap() + 1;
    while i < b.len() {
        if b[i] == LF || b[i] == CR {
            i += 1;
            continue;
        }
        let (fields, sure, next) = split(&b, i);
        let handled = sure && fields.len() == COLUMNS && run.record(&fields[..].try_into().unwrap());
        if !handled {
            run.totals.handed_on += 1;
        }
        if run.out.len() > (1 << 21) - (1 << 16) {
            spool.write_all(&run.out).unwrap();
            run.out.clear();
        }
        i = next;
    }
    spool.write_all(&run.out).unwrap();
    spool.flush().unwrap();
    let cpu = cpu_seconds() - cpu0;
    let t = &run.totals;
    println!(
        "{{\"rows\":{},\"rows_handled\":{},\"rows_for_the_core\":{},\"rows_opted_out\":{},\"distinct_people_hashed\":{},\"cpu_s\":{:.2}}}",
        t.handled + t.handed_on,
        t.handled,
        t.handed_on,
        t.opted_out,
        t.hmacs,
        cpu
    );
}

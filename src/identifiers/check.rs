//! Check-digit arithmetic shared by several families.

/// ISO 7064 MOD 97-10 remainder of an alphanumeric string (letters count A = 10 .. Z = 35),
/// or `None` if it holds anything but ASCII digits and upper-case letters.
pub(crate) fn mod97_10(s: &str) -> Option<u32> {
    let mut rem: u32 = 0;
    for c in s.chars() {
        let v = c.to_digit(36)?;
        if c.is_ascii_lowercase() {
            return None;
        }
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    Some(rem)
}

/// ICAO 9303 check digit (weights 7, 3, 1 repeating; digits are themselves, A = 10 .. Z = 35,
/// the filler `<` is 0), or `None` for a character outside that set.
pub(crate) fn icao_9303(s: &str) -> Option<u32> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0;
    for (i, c) in s.chars().enumerate() {
        let v = match c {
            '<' => 0,
            '0'..='9' | 'A'..='Z' => c.to_digit(36)?,
            _ => return None,
        };
        sum += v * WEIGHTS[i % 3];
    }
    Some(sum % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icao_specimen() {
        // ICAO 9303 part 4 specimen passport: document number L898902C3, check digit 6.
        assert_eq!(icao_9303("L898902C3"), Some(6));
        assert_eq!(icao_9303("L898902C<"), icao_9303("L898902C0"));
        assert_eq!(icao_9303("l898902c3"), None);
    }

    #[test]
    fn mod97_known_lei() {
        // GLEIF's own LEI.
        assert_eq!(mod97_10("506700GE1G29325QX363"), Some(1));
        assert_eq!(mod97_10("506700GE1G29325QX364"), Some(2));
    }
}

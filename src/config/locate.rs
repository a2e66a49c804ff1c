//! Finds the line of a dotted key (`flow_log.format`) in YAML text, so errors found after parsing can
//! still point at the line the user has to change.

/// 1-based line of the deepest part of `key` that can be found; `None` when not even the first part is there.
pub fn line_of(text: &str, key: &str) -> Option<usize> {
    let segments: Vec<&str> = key.split('.').filter(|s| !s.is_empty()).collect();
    let mut found = None;
    let mut min_indent = 0usize;
    let mut start = 0usize;
    let lines: Vec<&str> = text.lines().collect();
    for segment in segments {
        let mut hit = None;
        for (i, line) in lines.iter().enumerate().skip(start) {
            let content = line.split('#').next().unwrap_or("");
            let indent = content.len() - content.trim_start().len();
            if content.trim().is_empty() {
                continue;
            }
            if i > start && found.is_some() && indent < min_indent {
                break;
            }
            // A key on its own line, or inside a flow mapping on the parent's line.
            let own_line = content.trim_start().starts_with(&format!("{segment}:"));
            let inline = found == Some(i + 1) && content.contains(&format!("{segment}:"));
            if own_line || inline {
                hit = Some((i, indent));
                break;
            }
        }
        match hit {
            Some((i, indent)) => {
                found = Some(i + 1);
                min_indent = indent + 1;
                start = i;
            }
            None => break,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::line_of;

    const TEXT: &str = "version: 1\nstack: a\nflow_log:\n  resources: { vpc_ids: [vpc-1] }\n  # format: all\n  format: default\nbucket:\n  format: x\n";

    #[test]
    fn finds_nested_keys() {
        assert_eq!(line_of(TEXT, "stack"), Some(2));
        assert_eq!(line_of(TEXT, "flow_log.format"), Some(6));
        assert_eq!(line_of(TEXT, "bucket.format"), Some(8));
    }

    #[test]
    fn finds_keys_inside_flow_mappings() {
        assert_eq!(line_of(TEXT, "flow_log.resources.vpc_ids"), Some(4));
    }

    #[test]
    fn falls_back_to_the_parent() {
        assert_eq!(line_of(TEXT, "flow_log.max_aggregation_interval"), Some(3));
        assert_eq!(line_of(TEXT, "nothing"), None);
    }
}

//! Typed reads from a fixture's JSON. Every read names what it was reading,
//! so that a malformed fixture is reported with the key that is wrong instead
//! of a panic.

use serde_json::{Map, Value};

/// A JSON object.
pub type Object = Map<String, Value>;

/// A short name of a JSON value's type, for error messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong(what: &str, wanted: &str, v: &Value) -> String {
    format!("`{what}` should be {wanted}, found {}", type_name(v))
}

/// The value under `key`, or an error naming the missing key.
pub fn field<'a>(obj: &'a Object, key: &str, what: &str) -> Result<&'a Value, String> {
    obj.get(key)
        .ok_or_else(|| format!("missing key `{what}{key}`"))
}

/// The value under `key`, treating JSON null like an absent key.
pub fn optional<'a>(obj: &'a Object, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// An object.
pub fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Object, String> {
    v.as_object().ok_or_else(|| wrong(what, "an object", v))
}

/// An array.
pub fn array<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], String> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| wrong(what, "an array", v))
}

/// A string.
pub fn string<'a>(v: &'a Value, what: &str) -> Result<&'a str, String> {
    v.as_str().ok_or_else(|| wrong(what, "a string", v))
}

/// A boolean.
pub fn boolean(v: &Value, what: &str) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| wrong(what, "a boolean", v))
}

/// A float: a JSON number, or one of the strings `"inf"`, `"-inf"`, `"nan"`
/// with which the schema writes non-finite values.
pub fn number(v: &Value, what: &str) -> Result<f64, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("`{what}` is not representable as a float")),
        Value::String(s) => match s.as_str() {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            _ => Err(format!(
                "`{what}` should be a number, found the string {s:?}"
            )),
        },
        other => Err(wrong(what, "a number", other)),
    }
}

/// A non-negative integer. Integral floats such as `5.0` are accepted, since
/// Python code may pass them where an `int` is meant.
pub fn count(v: &Value, what: &str) -> Result<usize, String> {
    if let Some(n) = v.as_u64() {
        return usize::try_from(n).map_err(|_| format!("`{what}` is too large"));
    }
    let x = number(v, what)?;
    let integral = x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 2f64.powi(53);
    match integral {
        true => Ok(x as usize),
        false => Err(format!(
            "`{what}` should be a non-negative integer, found {x}"
        )),
    }
}

/// A vector of floats, checked against the expected length.
pub fn vector(v: &Value, len: usize, what: &str) -> Result<Vec<f64>, String> {
    let items = array(v, what)?;
    if items.len() != len {
        return Err(format!(
            "`{what}` has {} values, expected {len}",
            items.len()
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, x)| number(x, &format!("{what}[{i}]")))
        .collect()
}

/// A matrix of floats given as `rows` rows of `cols` values.
pub fn matrix(v: &Value, rows: usize, cols: usize, what: &str) -> Result<Vec<Vec<f64>>, String> {
    let items = array(v, what)?;
    if items.len() != rows {
        return Err(format!(
            "`{what}` has {} rows, expected {rows}",
            items.len()
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, row)| vector(row, cols, &format!("{what}[{i}]")))
        .collect()
}

/// True when two JSON values mean the same thing: numbers are compared as
/// floats (Python writes `0` and `0.0` for the same default), arrays and
/// objects element by element.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| same(p, q)))
        }
        _ => match (number(a, ""), number(b, "")) {
            (Ok(x), Ok(y)) => x == y || (x.is_nan() && y.is_nan()),
            _ => a == b,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_include_the_schema_strings() {
        assert_eq!(number(&json!("inf"), "x"), Ok(f64::INFINITY));
        assert_eq!(number(&json!("-inf"), "x"), Ok(f64::NEG_INFINITY));
        assert!(number(&json!("nan"), "x").is_ok_and(f64::is_nan));
        assert_eq!(number(&json!(2), "x"), Ok(2.0));
        assert!(number(&json!("1.0"), "x").is_err());
        assert!(number(&json!(true), "x").is_err());
    }

    #[test]
    fn counts_accept_integral_floats_only() {
        assert_eq!(count(&json!(5), "n"), Ok(5));
        assert_eq!(count(&json!(5.0), "n"), Ok(5));
        assert!(count(&json!(2.5), "n").is_err());
        assert!(count(&json!(-1), "n").is_err());
        assert!(count(&json!("inf"), "n").is_err());
    }

    #[test]
    fn python_spellings_of_one_value_are_the_same() {
        assert!(same(&json!(0), &json!(0.0)));
        assert!(same(&json!([0.9, 0.999]), &json!([0.9, 0.999])));
        assert!(same(&json!("inf"), &json!("inf")));
        assert!(!same(&json!(true), &json!(1)));
        assert!(!same(&json!([0.9]), &json!([0.9, 0.999])));
    }

    #[test]
    fn shape_errors_name_the_key() {
        let err = matrix(&json!([[1.0, 2.0], [3.0]]), 2, 2, "grads");
        assert_eq!(err, Err("`grads[1]` has 1 values, expected 2".to_string()));
    }
}

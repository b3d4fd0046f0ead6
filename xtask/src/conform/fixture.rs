//! Reading one fixture file (SCHEMA.md, schema version 1) into a checked,
//! typed [`Fixture`], or deciding that it is to be skipped.
//!
//! Everything the replay indexes is validated here (lengths of `x0`, of every
//! gradient and expected row, of the data set), so that the replay itself
//! cannot go out of bounds on a malformed file.

use std::path::Path;

use serde_json::Value;

use super::json::{self, Object};

/// The optimizers whose fixtures are replayed; every other one is skipped.
pub const IMPLEMENTED: [&str; 18] = [
    "torch-sgd",
    "torch-adam",
    "torch-adamw",
    "torch-adagrad",
    "torch-rmsprop",
    "madgrad",
    "mirror-madgrad",
    "dadapt-adam",
    "dadapt-sgd",
    "dadapt-lion",
    "dadapt-adagrad",
    "dadapt-adan",
    "sgd-schedulefree",
    "adamw-schedulefree",
    "prodigy",
    "momo",
    "momo-adam",
    "radam-schedulefree",
];

/// Name prefixes of the optimizers that wrap the one in `base_optimizer`.
pub const WRAPPERS: [&str; 2] = ["mechanic-", "schedulefree-wrapper-"];

/// What to do with a fixture file.
pub enum Loaded {
    /// Not replayed, for the given reason.
    Skip(String),
    /// Replayed.
    Replay(Box<Fixture>),
    /// Run to its optimum (see [`super::finite_sum`]).
    FiniteSum(Box<super::finite_sum::Fixture>),
}

/// A fixture ready for replay.
#[derive(Debug)]
pub struct Fixture {
    /// Our name of the optimizer, e.g. `prodigy`.
    pub optimizer: String,
    /// The keyword arguments passed to the official constructor.
    pub hyperparameters: Object,
    /// `param_groups[0]` after construction: resolved defaults and counters.
    pub param_group: Object,
    /// The number of elements of each tensor, in order.
    pub tensors: Vec<usize>,
    /// The initial parameters.
    pub x0: Vec<f64>,
    /// Where the gradients come from.
    pub problem: Problem,
    /// Open loop: the loss given with each step's gradient (MoMo), if the
    /// fixture has them. Closed loop computes the loss at the parameters.
    pub losses: Option<Vec<f64>>,
    /// Mechanic and the Schedule-Free wrapper: the base optimizer's class
    /// (`torch.optim.SGD`) and the keyword arguments of `mechanize` or of
    /// `ScheduleFreeWrapper` (`mechanize_kwargs`, `wrapper_kwargs`).
    pub mechanic: Option<(String, Object)>,
    /// The reference trajectory.
    pub expected: Expected,
    /// Schedule-Free: the reference called `eval()` then `train()` on the
    /// live optimizer after every step.
    pub eval_train_each_step: bool,
    /// Schedule-Free: the reference called `train()` before the first step.
    pub train_before_first_step: bool,
}

impl Fixture {
    /// The number of steps, T.
    pub fn steps(&self) -> usize {
        self.expected.params.len()
    }

    /// The total number of parameters.
    pub fn dim(&self) -> usize {
        self.x0.len()
    }
}

/// The source of the gradients.
#[derive(Debug)]
pub enum Problem {
    /// The given gradient rows, one per step.
    OpenLoop(Vec<Vec<f64>>),
    /// The logistic regression of SCHEMA.md, evaluated at the parameters.
    ClosedLoop(Logistic),
}

/// The closed-loop problem: L2-regularised binary logistic regression, with
/// parameters `[w, b]`.
#[derive(Debug)]
pub struct Logistic {
    /// The feature rows, each as long as `w`.
    pub features: Vec<Vec<f64>>,
    /// The labels, one per row.
    pub labels: Vec<f64>,
    /// The L2 penalty on `w` (the bias is not regularised).
    pub l2: f64,
}

/// One step's reference scalars: each key with its value, or `None` where
/// the reference recorded null.
pub type Scalars = Vec<(String, Option<f64>)>;

/// The reference trajectory, one row per step.
#[derive(Debug)]
pub struct Expected {
    /// The parameters after each step (Schedule-Free: the train weights y).
    pub params: Vec<Vec<f64>>,
    /// Schedule-Free: the eval weights x after each step.
    pub eval_params: Option<Vec<Vec<f64>>>,
    /// The user-visible scalars after each step.
    pub scalars: Option<Vec<Scalars>>,
}

/// Reads and checks the fixture at `path`. An `Err` is a reason to fail it.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))?;
    let root = json::object(&value, "the fixture")?;
    let version = json::number(json::field(root, "schema_version", "")?, "schema_version")?;
    if version != 1.0 {
        return Err(format!(
            "schema_version {version} is not supported (only 1)"
        ));
    }
    let kind = json::string(json::field(root, "kind", "")?, "kind")?;
    if kind == "finite_sum" {
        return Ok(match super::finite_sum::parse(root)? {
            Some(f) => Loaded::FiniteSum(Box::new(f)),
            None => Loaded::Skip("optimizer is not a finite-sum method of freestep".into()),
        });
    }
    if kind != "open_loop" && kind != "closed_loop" {
        return Err(format!("unknown kind {kind:?}"));
    }
    let optimizer = json::string(json::field(root, "optimizer", "")?, "optimizer")?;
    // Mechanic and the Schedule-Free wrapper wrap a base optimizer, named
    // in `base_optimizer`.
    let wrapping = WRAPPERS.iter().any(|w| optimizer.starts_with(w));
    if !IMPLEMENTED.contains(&optimizer) && !wrapping {
        return Ok(Loaded::Skip(format!(
            "optimizer `{optimizer}` is not implemented in freestep"
        )));
    }
    parse(root, kind, optimizer).map(|f| Loaded::Replay(Box::new(f)))
}

/// Parses a fixture of an implemented optimizer.
fn parse(root: &Object, kind: &str, optimizer: &str) -> Result<Fixture, String> {
    if let Some(dtype) = json::optional(root, "dtype") {
        let dtype = json::string(dtype, "dtype")?;
        if dtype != "float64" {
            return Err(format!(
                "reference dtype is {dtype}; only float64 references are compared"
            ));
        }
    }
    let tensors = tensor_sizes(json::field(root, "shapes", "")?)?;
    let dim = tensors.iter().try_fold(0usize, |a, &n| a.checked_add(n));
    let dim = dim.ok_or("`shapes` has more elements than fit in memory")?;
    let declared = json::count(json::field(root, "dim", "")?, "dim")?;
    if declared != dim {
        return Err(format!(
            "`dim` is {declared} but `shapes` hold {dim} values"
        ));
    }
    let steps = json::count(json::field(root, "steps", "")?, "steps")?;
    let x0 = json::vector(json::field(root, "x0", "")?, dim, "x0")?;
    let problem = match kind {
        "closed_loop" => Problem::ClosedLoop(logistic(root, dim)?),
        _ => Problem::OpenLoop(json::matrix(
            json::field(root, "grads", "")?,
            steps,
            dim,
            "grads",
        )?),
    };
    let losses = match (kind, json::optional(root, "losses")) {
        ("open_loop", Some(v)) if !v.is_null() => Some(json::vector(v, steps, "losses")?),
        _ => None,
    };
    let mechanic = match json::optional(root, "base_optimizer") {
        Some(base) if !base.is_null() => {
            let base = json::string(base, "base_optimizer")?.to_string();
            let given = ["mechanize_kwargs", "wrapper_kwargs"]
                .into_iter()
                .find_map(|key| {
                    json::optional(root, key)
                        .filter(|v| !v.is_null())
                        .map(|v| (key, v))
                });
            let kwargs = match given {
                Some((key, v)) => json::object(v, key)?.clone(),
                None => Object::new(),
            };
            Some((base, kwargs))
        }
        _ => None,
    };
    let protocol = json::object(json::field(root, "protocol", "")?, "protocol")?;
    let flag = |key: &str| match json::optional(protocol, key) {
        Some(v) => json::boolean(v, &format!("protocol.{key}")),
        None => Ok(false),
    };
    Ok(Fixture {
        optimizer: optimizer.to_string(),
        hyperparameters: json::object(
            json::field(root, "hyperparameters", "")?,
            "hyperparameters",
        )?
        .clone(),
        param_group: json::object(
            json::field(root, "param_group_after_init", "")?,
            "param_group_after_init",
        )?
        .clone(),
        tensors,
        x0,
        problem,
        losses,
        mechanic,
        expected: expected(json::field(root, "expected", "")?, steps, dim)?,
        eval_train_each_step: flag("eval_train_each_step")?,
        train_before_first_step: flag("schedule_free_train_called_before_first_step")?,
    })
}

/// The element count of each tensor in `shapes` (a scalar tensor, shape
/// `[]`, has one element).
fn tensor_sizes(shapes: &Value) -> Result<Vec<usize>, String> {
    let shapes = json::array(shapes, "shapes")?;
    let mut sizes = Vec::with_capacity(shapes.len());
    for (i, shape) in shapes.iter().enumerate() {
        let what = format!("shapes[{i}]");
        let mut size = 1usize;
        for (j, d) in json::array(shape, &what)?.iter().enumerate() {
            let d = json::count(d, &format!("{what}[{j}]"))?;
            size = size
                .checked_mul(d)
                .ok_or(format!("`{what}` is too large"))?;
        }
        sizes.push(size);
    }
    Ok(sizes)
}

/// The closed-loop data set and penalty, checked against the parameter
/// count `dim` (the weights `w` and one bias).
fn logistic(root: &Object, dim: usize) -> Result<Logistic, String> {
    let features = dim
        .checked_sub(1)
        .ok_or("a closed-loop fixture needs the weights and a bias")?;
    let dataset = json::object(json::field(root, "dataset", "")?, "dataset")?;
    let rows = json::array(json::field(dataset, "X", "dataset.")?, "dataset.X")?.len();
    if rows == 0 {
        return Err("`dataset.X` is empty".into());
    }
    let x = json::matrix(
        json::field(dataset, "X", "dataset.")?,
        rows,
        features,
        "dataset.X",
    )?;
    let y = json::vector(json::field(dataset, "y", "dataset.")?, rows, "dataset.y")?;
    // SCHEMA.md fixes l2 = 0.01 with an unregularised bias; a fixture that
    // states its problem must state that one.
    let mut l2 = 0.01;
    if let Some(problem) = json::optional(root, "problem") {
        let problem = json::object(problem, "problem")?;
        if let Some(v) = json::optional(problem, "l2") {
            l2 = json::number(v, "problem.l2")?;
        }
        if let Some(v) = json::optional(problem, "bias_regularised") {
            if json::boolean(v, "problem.bias_regularised")? {
                let why = "`problem.bias_regularised` is true; the schema's problem \
                           leaves the bias unregularised";
                return Err(why.into());
            }
        }
    }
    Ok(Logistic {
        features: x,
        labels: y,
        l2,
    })
}

/// The `expected` block: T rows of params, and optionally of eval params and
/// scalars.
fn expected(v: &Value, steps: usize, dim: usize) -> Result<Expected, String> {
    let block = json::object(v, "expected")?;
    let params = json::matrix(
        json::field(block, "params", "expected.")?,
        steps,
        dim,
        "expected.params",
    )?;
    let eval_params = match json::optional(block, "eval_params") {
        Some(v) => Some(json::matrix(v, steps, dim, "expected.eval_params")?),
        None => None,
    };
    let scalars = match json::optional(block, "scalars") {
        Some(v) => Some(scalar_rows(v, steps)?),
        None => None,
    };
    Ok(Expected {
        params,
        eval_params,
        scalars,
    })
}

/// T objects of scalars; null values are kept as `None` and skipped later.
fn scalar_rows(v: &Value, steps: usize) -> Result<Vec<Scalars>, String> {
    let rows = json::array(v, "expected.scalars")?;
    if rows.len() != steps {
        return Err(format!(
            "`expected.scalars` has {} rows, expected {steps}",
            rows.len()
        ));
    }
    let mut out = Vec::with_capacity(steps);
    for (t, row) in rows.iter().enumerate() {
        let what = format!("expected.scalars[{t}]");
        let mut scalars = Scalars::new();
        for (key, value) in json::object(row, &what)? {
            // A vector (Mechanic's per-beta `s`) becomes `key[i]` scalars.
            if let Value::Array(items) = value {
                for (i, item) in items.iter().enumerate() {
                    let name = format!("{key}[{i}]");
                    let v = json::number(item, &format!("{what}.{name}"))?;
                    scalars.push((name, Some(v)));
                }
                continue;
            }
            let value = match value.is_null() {
                true => None,
                false => Some(json::number(value, &format!("{what}.{key}"))?),
            };
            scalars.push((key.clone(), value));
        }
        out.push(scalars);
    }
    Ok(out)
}

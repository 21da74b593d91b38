#!/usr/bin/env bash
# The main job, end to end and offline: problems -> synthetic endpoint -> collection -> dbt build ->
# metrics -> mixed model -> figure. Every step is a real `evalhouse` command; the models are simulated.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
start=$(date +%s)
data="${EVALHOUSE_DATA:-data}"
warehouse="${EVALHOUSE_WAREHOUSE:-warehouse/evalhouse.duckdb}"
out="$data/outputs"
mkdir -p "$out"

echo "== 1. problems (exact golds)"
evalhouse problems generate --kinds add,sub,mul,lcs,knap,rod --digits 2,4,6,8 --n 3

echo "== 2. the project's OpenAI-compatible endpoint on 127.0.0.1 (simulated, synthetic models)"
port_file=$(mktemp)
evalhouse synthetic serve --port 0 --port-file "$port_file" --latency-ms 30 --latency-sigma 0.5 \
    > "$out/synthetic-endpoint.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$port_file"' EXIT
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.1; done
base_url="http://127.0.0.1:$(cat "$port_file")/v1"
echo "   $base_url"

echo "== 3. plan (as OpenRouter: prices, key, credit), then collect: 4 models from 2 labs, 4 arms, 2 seeds"
# experiments/synthetic.toml holds the experiment; only the endpoint's port comes from the command line
evalhouse ingest plan --spec experiments/synthetic.toml --base-url "${base_url%/v1}/api/v1"
evalhouse ingest run --spec experiments/synthetic.toml --base-url "$base_url"

echo "== 4. per-model metrics (the seed's 31-model table)"
evalhouse ingest metrics examples/hubris_models.csv

echo "== 5. build the warehouse (dbt)"
evalhouse build

echo "== 6. mixed model: hubris ~ is_flagship + (1|lab)"
evalhouse analyze mixedlm --from marts.model_metrics --where "metric = 'hubris'" \
    --formula "value ~ is_flagship + (1|lab)" \
    --json "$out/mixedlm_hubris.json" --latex "$out/mixedlm_hubris.tex"

echo "== 7. lab effects: naive d, mixed model on all models and two sensitivity subsets, d1-d2 correlation"
evalhouse analyze lab-effects --metric hubris --exclude-model Phi-4 --exclude-category reasoning \
    --correlate d1,d2 --json "$out/lab_effects_hubris.json" --latex "$out/lab_effects_hubris.tex" \
    --figure "$out/figures/forest_hubris"

echo "== 8. code vs nl: the GLMM (odds ratio), bootstrap CIs, paired tests, ANOVA, the plan's criteria; every figure"
evalhouse analyze code-vs-nl --json "$out/code_vs_nl.json" --latex "$out/code_vs_nl.tex" --figures "$out/figures"

echo "== 9. the DuckDB shell reads the warehouse"
duckdb -readonly "$warehouse" -c "select * from marts.acc_model_arm_kind order by model, kind, arm limit 5"

echo "== 10. one shareable HTML report: headline tables, figures, statistics, validation"
evalhouse report --out "$out/report.html"

echo
echo "Done in $(( $(date +%s) - start ))s. Outputs:"
echo "  warehouse:    $warehouse   (duckdb -readonly $warehouse)"
echo "  shards:       $data/raw/responses/"
echo "  mixed model:  $out/mixedlm_hubris.json, $out/mixedlm_hubris.tex"
echo "  lab effects:  $out/lab_effects_hubris.json, $out/lab_effects_hubris.tex"
echo "  code vs nl:   $out/code_vs_nl.json, $out/code_vs_nl.tex"
echo "  figures:      $out/figures/*.png (and .pdf)"
echo "  report:       $out/report.html"

#!/bin/sh
# Container entrypoint (PID 2 under tini, which forwards SIGTERM and reaps zombies).
#
#   docker run IMAGE worker ...     -> roberta-batch worker ...
#   docker run IMAGE enqueue ...    -> roberta-batch enqueue ...
#   docker run IMAGE sh             -> any other command runs as given
#
# Model at start-up, for `worker` and `run` only:
#   - mounted: -v /srv/models:/models:ro and RB_MODEL=/models/<name> (nothing is downloaded);
#   - fetched: RB_FETCH_MODEL=<name> (a name from `roberta-batch models fetch --help`) downloads
#     <RB_MODELS_DIR:-/models>/<name>/ when its model.onnx is missing, and sets RB_MODEL to that
#     folder unless RB_MODEL is already set. About 476 MiB per model: mount /models on a volume so a
#     restarted container does not download it again. A mirror is taken from
#     ROBERTA_BATCH_MODEL_MIRROR (see docs/MODELS.md).
set -eu

CLI="node /app/dist/cli/main.js"

case "${1:-}" in
  worker|run)
    if [ -n "${RB_FETCH_MODEL:-}" ]; then
      dir="${RB_MODELS_DIR:-/models}"
      if [ ! -f "$dir/$RB_FETCH_MODEL/model.onnx" ]; then
        echo "docker-entrypoint: $dir/$RB_FETCH_MODEL/model.onnx missing: fetching $RB_FETCH_MODEL" >&2
        $CLI models fetch "$RB_FETCH_MODEL" --dir "$dir"
      fi
      export RB_MODEL="${RB_MODEL:-$dir/$RB_FETCH_MODEL}"
    fi
    exec $CLI "$@"
    ;;
  enqueue|results|models|help|--help|-h|--version|-V)
    exec $CLI "$@"
    ;;
  "")
    exec $CLI --help
    ;;
  *)
    exec "$@"
    ;;
esac

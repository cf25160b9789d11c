# Tasks for developers and ops. README.md explains each; none is required (the two
# README commands work without make).
.PHONY: run test test-pg lint fmt stack migrations check-deploy

run:            ## the marketplace on the embedded default, with demo data
	bash scripts/run.sh

test:           ## the whole suite (SQLite unless DATABASE_URL/REDIS_URL are set)
	bash scripts/test.sh

test-pg:        ## the whole suite against the local PostgreSQL and Redis, as CI runs it
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/homecraft3d REDIS_URL=redis://127.0.0.1:6379/15 bash scripts/test.sh

lint:           ## ruff (incl. "only payments/gateway.py imports stripe") and the import layers
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports

fmt:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

migrations:     ## fail if a model change has no migration
	.venv/bin/python manage.py makemigrations --check --dry-run

stack:          ## S3 (moto) + web + worker + beat against local PostgreSQL + Redis (scripts/stack.sh)
	bash scripts/stack.sh

check-deploy:   ## Django's deployment checklist with production-like values
	DEBUG=false SECRET_KEY=$$(.venv/bin/python -c 'import secrets;print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=shop.example.com .venv/bin/python manage.py check --deploy --fail-level WARNING

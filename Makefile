.PHONY: run demo test bench lint build

run:
	go run ./cmd/alinea serve

demo:
	go run ./cmd/alinea demo

test:
	bash scripts/test.sh

bench:
	go run ./cmd/alinea bench

lint:
	@out="$$(find . \( -name .git -o -name node_modules -o -name testdata \) -prune -o -name '*.go' -print0 | xargs -0 -r gofmt -l)"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...

build:
	go build -o bin/alinea ./cmd/alinea

package client

// The client is generated from api/openapi.yaml; scripts/contracts.sh checks that
// regenerating gives the committed file.
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config oapi-codegen.yaml ../openapi.yaml

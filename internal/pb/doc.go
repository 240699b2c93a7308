// Package pb holds the protobuf code generated from the project's own .proto
// subset of the OpenIM protocol (package names, message names, field names,
// numbers and types as OpenIM v3.8 defines them; see docs/protocol.md section 6).
//
// The generated packages are sdkws, msg and push. Regenerate them with
//
//	go generate ./internal/pb
//
// which needs protoc (Debian's protobuf-compiler) and protoc-gen-go
// (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12).
//
// The message names are registered in the protobuf global registry under
// OpenIM's names (openim.sdkws.MsgData, ...). A program that also links
// github.com/openimsdk/protocol registers the same names twice; run it with
// GOLANG_PROTOBUF_REGISTRATION_CONFLICT=warn.
package pb

//go:generate protoc -I . --go_out=. --go_opt=paths=source_relative sdkws/sdkws.proto msg/msg.proto push/push.proto

package wire_test

import (
	"fmt"

	"github.com/openimbot/openimbot/internal/wire"
)

// A client's codec: requests out, responses and pushes in.
func Example() {
	send, recv := wire.ClientOptions(wire.Gob, true)
	enc := wire.NewEncoder(send)
	frame, err := enc.EncodeReq(&wire.Req{ReqIdentifier: wire.GetNewestSeq, SendID: "u1", OperationID: "op1", MsgIncr: "u1_1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(frame) <= wire.MaxServerInbound)

	// The gateway's side of the same connection.
	_, gwRecv := wire.ServerOptions(wire.Gob, true)
	var req wire.Req
	if err := wire.NewDecoder(gwRecv).DecodeReq(frame, &req); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.ReqIdentifier, req.SendID, req.MsgIncr)

	// A kick frame, as the gateway would send it.
	kick, _ := wire.NewEncoder(recv).EncodeResp(&wire.Resp{ReqIdentifier: wire.KickOnlineMsg})
	dec := wire.NewDecoder(recv)
	var resp wire.Resp
	if err := dec.DecodeResp(kick, &resp); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.ReqIdentifier == wire.KickOnlineMsg)
	// Output:
	// true
	// 1001 u1 u1_1
	// true
}

// The JSON envelope (sdkType=js) of docs/protocol.md section 2.4.
func ExampleEncoder_EncodeResp_json() {
	enc := wire.NewEncoder(wire.Options{Encoding: wire.JSON})
	frame, _ := enc.EncodeResp(&wire.Resp{ReqIdentifier: wire.KickOnlineMsg})
	fmt.Println(string(frame))
	// Output:
	// {"reqIdentifier":2002,"msgIncr":"","operationID":"","errCode":0,"errMsg":"","data":null}
}

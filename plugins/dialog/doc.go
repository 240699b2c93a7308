// Package dialog is the dialog plugin: multi-step conversations defined in
// YAML. A flow starts with a command, asks its questions one at a time,
// checks each answer, stores it, and ends with a reply built from the
// answers:
//
//	plugins:
//	  dialog:
//	    timeout: 5m                  # per question; default 5m
//	    cancel: [cancel, /cancel]    # answers that end a dialog (case-insensitive)
//	    cancel_message: "Cancelled."
//	    timeout_message: "No answer in time; I stopped asking."
//	    flows:
//	      - name: feedback
//	        command: /feedback
//	        description: tell us what you think
//	        steps:
//	          - key: rating
//	            ask: "How would you rate me, from 1 to 5?"
//	            number: true
//	            min: 1
//	            max: 5
//	            retry: "Please answer with a number from 1 to 5."
//	          - key: comment
//	            ask: "Thanks! Anything to add?"
//	            expr: len(Answer) <= 500
//	        reply: "Thank you, {{.Sender}}: {{.rating}}/5, \"{{.comment}}\"."
//
// A step's answer must pass every check the step sets: regex (a Go regular
// expression the answer must match), number (with optional min and max),
// choices (one of a list, ignoring case; the stored value is the list's
// spelling) and expr (an expr-lang boolean over ExprEnv: Answer, Number,
// IsNumber, Answers, SenderID). An answer that fails gets the step's retry
// message (default: DefaultRetry and the question again) and the question
// stays open. Questions and the reply are Go text/template sources with
// the answers given so far as fields ({{.rating}}), and Flow, Sender,
// SenderID and Answers; a template that refers to an unknown key, a bad
// regex or expr, a duplicate key or command are errors at load, at their
// file:line:col.
//
// # Who is in a dialog
//
// A dialog belongs to one user in one conversation: in a group, the other
// members are routed as usual while one member answers the bot's questions.
// While a dialog is in progress every message of that user in that
// conversation is an answer (a cancel word ends the dialog), handed to the
// dialog by a router middleware before any route.
//
// # Timeouts and restarts
//
// Each question waits at most the flow's timeout (the plugin's timeout by
// default); then the dialog ends with the timeout message. A dialog's state
// (flow, step, answers, deadline) is written to the plugin's storage
// namespace after every step, before the next question is sent, so a
// restart continues every dialog at the step it had reached. A message
// delivered again after a crash (the bot's delivery is at least once) is
// recognised by its seq and not applied twice: the current question is
// asked again instead. Dialogs that timed out while the bot was down end,
// with their timeout message, when the bot handles its first message
// after the restart (that is when the plugin learns the bot's sender). A
// configuration reload keeps the dialogs in progress: the plugin of the new
// configuration takes them over, timeouts included, at its first message.
//
// Timeouts read time from a bot.Clock (WithClock), so tests move time with
// a fake clock instead of waiting.
package dialog

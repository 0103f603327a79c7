package controller

// Action is a step a person takes on a visit through the workflow.
type Action string

// The workflow actions. ActionEnter and ActionExit are taken by the door, not
// through the workflow API.
const (
	ActionSubmit       Action = "submit"        // step 1, admin
	ActionCheck        Action = "check"         // step 2, coordinator
	ActionApprove      Action = "approve"       // step 3, head
	ActionReject       Action = "reject"        // step 3, head
	ActionEnter        Action = "enter"         // step 4, escorted entry at the door
	ActionExit         Action = "exit"          // step 4 ends: the visitor leaves
	ActionReturnID     Action = "return-id"     // step 5, admin
	ActionReport       Action = "report"        // step 6, coordinator
	ActionOrderArchive Action = "order-archive" // step 7, head
	ActionArchive      Action = "archive"       // step 8, admin
)

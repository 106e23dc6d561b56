// Package awsfake is a loopback fake of the AWS describe APIs that the real
// aws-sdk-go-v2 clients reach through BaseEndpoint with static
// credentials: CloudFormation (DescribeStacks, DescribeChangeSet,
// CancelUpdateStack), EKS (DescribeCluster, DescribeNodegroup,
// DescribeAddon), EC2 (DescribeInstances, DescribeInstanceStatus,
// DescribeVolumes, DescribeImages, DescribeNatGateways), RDS
// (DescribeDBInstances), ECS (DescribeServices), Lambda (GetFunction,
// GetFunctionConfiguration) and DynamoDB (DescribeTable), each in its own
// wire protocol.
//
// Each resource answers from a script of steps — a status word, or a
// fault (throttling, 5xx, a dropped connection, access denied, not found)
// — so tests of code that waits on AWS resources run against the SDK's
// real serializers, deserializers and retryers.
package awsfake

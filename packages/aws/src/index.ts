/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as AwsCli from "./AwsCli.ts"

/**
 * @since 0.1.0
 */
export * as AwsClients from "./AwsClients.ts"

/**
 * @since 0.1.0
 */
export * as AwsPlatform from "./AwsPlatform.ts"

/**
 * @since 0.1.0
 */
export * as Names from "./Names.ts"

/**
 * @since 0.1.0
 */
export * as Provision from "./Provision.ts"

/**
 * @since 0.1.0
 */
export * as Resources from "./Resources.ts"

/**
 * @since 0.1.0
 */
export * as S3BlobStore from "./S3BlobStore.ts"

/**
 * @since 0.1.0
 */
export * as SnsExtensionPointTopic from "./SnsExtensionPointTopic.ts"

/**
 * @since 0.1.0
 */
export * as SqsCommandTopic from "./SqsCommandTopic.ts"

// Operator: projects (tenants) and their tokens.
import { actorOf, type ApiApp, type RouteContext } from "../app.ts";
import { CreatedProjectSchema, CreateProjectBody, PageOf, PagingQuery, ProjectSchema } from "../schemas.ts";
import { createHeaders, errorResponses, listOptions, runCreate } from "./common.ts";

export function registerProjectRoutes(app: ApiApp, ctx: RouteContext): void {
  const tags = ["projects"];
  app.post(
    "/v1/projects",
    {
      config: { access: "operator" },
      schema: {
        tags,
        operationId: "createProject",
        summary: "Create a project and its bearer token (operator)",
        headers: createHeaders,
        body: CreateProjectBody,
        response: { 201: CreatedProjectSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      runCreate(ctx, request, reply, async () => {
        const { project, token } = await ctx.service.createProject(actorOf(request), request.body);
        return { id: project.id, name: project.name, token, createdAt: project.createdAt };
      }),
  );
  app.get(
    "/v1/projects",
    {
      config: { access: "operator" },
      schema: {
        tags,
        operationId: "listProjects",
        summary: "List projects (operator)",
        querystring: PagingQuery,
        response: { 200: PageOf(ProjectSchema, "ProjectPage"), ...errorResponses },
      },
    },
    async (request) => ctx.service.listProjects(actorOf(request), listOptions(request.query)),
  );
}

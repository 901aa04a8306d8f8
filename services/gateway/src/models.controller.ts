import { Controller, Get, Inject } from '@nestjs/common';
import { ModelsService, type ModelsView } from './models.service';

@Controller('v1')
export class ModelsController {
  constructor(@Inject(ModelsService) private readonly models: ModelsService) {}

  @Get('models')
  list(): Promise<ModelsView> {
    return this.models.list();
  }
}
